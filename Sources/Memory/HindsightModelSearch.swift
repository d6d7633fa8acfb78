import Engine
import Hindsight

extension HindsightModel {
    /// Where the hindsight model is looked for: `$ACCOMPANIST_HINDSIGHT_MODEL`, then the places of
    /// the accompaniment model (`ShippedModel.searchPath(for:environment:)`).
    public static var searchPath: [String] { ShippedModel.searchPath(for: fileName, environment: "ACCOMPANIST_HINDSIGHT_MODEL") }

    /// The model at `explicit`, else the first found on `searchPath`; nil when none loads.
    public static func find(_ explicit: String? = nil) -> HindsightModel? {
        (try? ShippedModel.locate(explicit, candidates: searchPath)).flatMap { try? HindsightModel(path: $0) }
    }
}
