import FerryCore
import Foundation

/// The attributes a resource is recorded with (name, CIDR, which VPC or subnet it is in,
/// its role), as a JSON object: diagrams and status pages read them back.
enum RecipeResourceDetail {
    static func json(_ attributes: [String: String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: attributes, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
