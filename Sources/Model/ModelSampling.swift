import Foundation

/// The sampling settings a model was tuned with, carried in its weights file (metadata key
/// "sampling": a JSON object of numbers named as the config's `[engine]` keys, e.g.
/// `{"temperature": 0.5, "estimate_floor": 0.55}`), so that they travel with the model: the
/// config and the command line override them only where a user sets them (docs/config.md).
public enum ModelSampling {
    public static let metadataKey = "sampling"

    /// The values in `metadata` (empty when the file carries none). Names and ranges are the
    /// settings table's to check (Config); here only the form: an object of finite numbers.
    public static func values(metadata: [String: String]) throws(SafeTensorsError) -> [String: Double] {
        guard let json = metadata[metadataKey] else { return [:] }
        let values: [String: Double]
        do { values = try JSONDecoder().decode([String: Double].self, from: Data(json.utf8)) } catch {
            throw .badMetadataValue(key: metadataKey, reason: "not a JSON object of numbers")
        }
        if let bad = values.first(where: { !$0.value.isFinite }) {
            throw .badMetadataValue(key: "\(metadataKey).\(bad.key)", reason: "not a finite number")
        }
        return values
    }

    /// The values of the weights file at `path` (its header only is read for them).
    public static func values(path: String) throws(SafeTensorsError) -> [String: Double] {
        try values(metadata: SafeTensorsFile(path: path).metadata)
    }
}
