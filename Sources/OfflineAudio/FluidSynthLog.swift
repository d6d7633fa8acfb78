import CFluidSynth

/// FluidSynth prints its own messages to stderr; our errors already say what went wrong, in one
/// line, so its messages are dropped.
public enum FluidSynthLog {
    public static func silence() {
        let drop: fluid_log_function_t = { _, _, _ in }
        for level in [FLUID_PANIC, FLUID_ERR, FLUID_WARN, FLUID_INFO, FLUID_DBG] {
            _ = fluid_set_log_function(Int32(level.rawValue), drop, nil)
        }
    }
}
