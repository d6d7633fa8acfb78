// The fuzz targets' main. With -DFUZZING (scripts/fuzz.sh builds with -sanitize=fuzzer), it hands
// the process to libFuzzer's driver; without, it replays each file argument once through the
// target's test function, so a crash found by the fuzzer can be rerun under a debugger.
import Foundation

public typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

#if FUZZING
// libFuzzer's entry for programs with their own main (LLVM >= 11): SwiftPM links an executable
// target's main itself, so libFuzzer's main is not used.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: FuzzCallback
) -> Int32
#endif

public func fuzzMain(_ callback: FuzzCallback) -> Never {
    #if FUZZING
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
    #else
    let arguments = CommandLine.arguments.dropFirst()
    if arguments.isEmpty {
        FileHandle.standardError.write(Data("usage: \(CommandLine.arguments[0]) INPUT...\n".utf8))
        exit(64)
    }
    for path in arguments {
        guard let data = FileManager.default.contents(atPath: path) else {
            FileHandle.standardError.write(Data("cannot read \(path)\n".utf8))
            exit(66)
        }
        _ = data.withUnsafeBytes { callback($0.bindMemory(to: UInt8.self).baseAddress, $0.count) }
        print("ok \(path) (\(data.count) bytes)")
    }
    exit(0)
    #endif
}
