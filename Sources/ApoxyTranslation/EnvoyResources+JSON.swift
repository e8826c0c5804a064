public import ApoxyAPI
import SwiftProtobuf

extension EnvoyResources {
    /// The resources in proto3 JSON with proto field names (as Envoy's own config dumps and the reference files).
    public func json() throws -> JSONValue {
        func render(_ messages: [some SwiftProtobuf.Message]) throws -> JSONValue {
            var options = JSONEncodingOptions()
            options.preserveProtoFieldNames = true
            return .array(try messages.map { try JSONValue.parse(try $0.jsonString(options: options)) })
        }
        return .object([
            "clusters": try render(clusters),
            "load_assignments": try render(loadAssignments),
            "listeners": try render(listeners),
            "route_configurations": try render(routeConfigurations),
        ])
    }
}
