import ApoxyAPI
import ApoxyRegistry

/// The OpenAPI v2 and v3 documents kubectl reads (explain, patch-type choice, fieldValidation support), all derived
/// from the resources' `Schema`s.
struct OpenAPIDocuments: Sendable {
    /// One group-version's v3 document, keyed `apis/<group>/<version>` (`api/v1` for the core group), with its content hash.
    let v3: [String: (document: [UInt8], hash: String)]
    /// The v3 discovery index.
    let v3Index: [UInt8]
    /// The whole v2 (swagger) document.
    let v2: [UInt8]

    init(resources: [ResourceDescriptor]) {
        var v3: [String: (document: [UInt8], hash: String)] = [:]
        let groupVersions = Dictionary(grouping: resources, by: \.groupVersionPath)
        for (path, members) in groupVersions {
            let bytes = Self.v3Document(members).serialized()
            v3[String(path.dropFirst())] = (bytes, Self.hash(bytes))
        }
        self.v3 = v3
        var paths: [String: JSONValue] = [:]
        for (key, entry) in v3 {
            paths[key] = ["serverRelativeURL": .string("/openapi/v3/\(key)?hash=\(entry.hash)")]
        }
        v3Index = JSONValue.object(["paths": .object(paths)]).serialized()
        v2 = Self.v2Document(resources).serialized()
    }

    /// FNV-1a, 64-bit, as upper-case hex: a stable cache key for clients (not a security measure).
    static func hash(_ bytes: [UInt8]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        let hex = String(h, radix: 16, uppercase: true)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    // MARK: Shared pieces

    struct Parameter {
        var name: String
        var location: String
        var type: String
        var description: String
        var required = false
        var uniqueItems = false
    }

    static let metaPrefix = "io.k8s.apimachinery.pkg.apis.meta.v1."

    static func parameter(_ name: String) -> Parameter {
        switch name {
        case "name":
            return Parameter(
                name: name, location: "path", type: "string", description: "name of the resource", required: true, uniqueItems: true)
        case "namespace":
            return Parameter(
                name: name, location: "path", type: "string", description: "object name and auth scope, such as for teams and projects",
                required: true, uniqueItems: true)
        case "pretty":
            return Parameter(
                name: name, location: "query", type: "string", description: "If 'true', then the output is pretty printed.",
                uniqueItems: true)
        case "dryRun":
            return Parameter(
                name: name, location: "query", type: "string",
                description:
                    "When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed",
                uniqueItems: true)
        case "fieldManager":
            return Parameter(
                name: name, location: "query", type: "string",
                description:
                    "fieldManager is a name associated with the actor or entity that is making these changes. Required for apply requests (application/apply-patch+yaml).",
                uniqueItems: true)
        case "force":
            return Parameter(
                name: name, location: "query", type: "boolean",
                description:
                    "Force is going to \"force\" Apply requests: the request re-acquires conflicting fields owned by other people. Must be unset for non-apply patch requests.",
                uniqueItems: true)
        case "fieldValidation":
            return Parameter(
                name: name, location: "query", type: "string",
                description:
                    "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn (default) - Strict",
                uniqueItems: true)
        case "continue":
            return Parameter(
                name: name, location: "query", type: "string",
                description: "The continue option should be set when retrieving more results from the server.", uniqueItems: true)
        case "fieldSelector":
            return Parameter(
                name: name, location: "query", type: "string",
                description:
                    "A selector to restrict the list of returned objects by their fields (metadata.name, and the fields a resource documents). Defaults to everything.",
                uniqueItems: true)
        case "labelSelector":
            return Parameter(
                name: name, location: "query", type: "string",
                description: "A selector to restrict the list of returned objects by their labels. Defaults to everything.",
                uniqueItems: true)
        case "limit":
            return Parameter(
                name: name, location: "query", type: "integer",
                description: "limit is a maximum number of responses to return for a list call.", uniqueItems: true)
        case "resourceVersion":
            return Parameter(
                name: name, location: "query", type: "string",
                description: "resourceVersion sets a constraint on what resource versions a request may be served from.", uniqueItems: true)
        case "resourceVersionMatch":
            return Parameter(
                name: name, location: "query", type: "string",
                description: "resourceVersionMatch determines how resourceVersion is applied to list calls (Exact, NotOlderThan).",
                uniqueItems: true)
        case "gracePeriodSeconds":
            return Parameter(
                name: name, location: "query", type: "integer", description: "The duration in seconds before the object should be deleted.",
                uniqueItems: true)
        case "propagationPolicy":
            return Parameter(
                name: name, location: "query", type: "string",
                description: "Whether and how garbage collection will be performed: Orphan, Background or Foreground.", uniqueItems: true)
        default: return Parameter(name: name, location: "query", type: "string", description: name, uniqueItems: true)
        }
    }

    struct Operation {
        var method: String
        var action: String
        var operationID: String
        var description: String
        var parameters: [String]
        var requestSchema: String?
        var requestContentTypes: [String] = ["application/json"]
        var responses: [(code: String, schema: String)]
        var kind: String
    }

    /// The operations of the resource's verbs, by path: under `namespaces/{namespace}/` for a namespaced resource,
    /// which also lists and watches across every namespace at its bare collection path.
    static func operations(_ r: ResourceDescriptor) -> [(path: String, pathParameters: [String], operations: [Operation])] {
        let verbs = Set(r.verbs)
        return allOperations(r).compactMap { path, parameters, operations in
            let served = operations.filter { verbs.contains(verb(of: $0)) }
            return served.isEmpty ? nil : (path, parameters, served)
        }
    }

    /// The RBAC verb an operation needs.
    static func verb(of operation: Operation) -> String {
        switch (operation.method, operation.action) {
        case ("get", "list"): return "list"
        case ("post", _): return "create"
        case ("put", _): return "update"
        case (_, "deletecollection"): return "deletecollection"
        default: return operation.method
        }
    }

    static func allOperations(_ r: ResourceDescriptor) -> [(path: String, pathParameters: [String], operations: [Operation])] {
        let id =
            (r.group.isEmpty ? "Core" : r.group.split(separator: ".").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined())
            + r.version.prefix(1).uppercased() + r.version.dropFirst()
        let scoped = r.namespaced ? "Namespaced" : ""
        let base = r.collectionPath(namespace: "{namespace}")
        let scope = r.namespaced ? ["namespace"] : []
        let object = r.componentName
        let list = r.listComponentName
        let status = metaPrefix + "Status"
        let patchTypes = PatchType.accepted
        var result: [(String, [String], [Operation])] = [
            (
                base, scope + ["pretty"],
                [
                    Operation(
                        method: "get", action: "list", operationID: "list\(id)\(scoped)\(r.kind)",
                        description: "list or watch objects of kind \(r.kind)",
                        parameters: ["continue", "fieldSelector", "labelSelector", "limit", "resourceVersion", "resourceVersionMatch"],
                        responses: [("200", list)], kind: r.kind),
                    Operation(
                        method: "post", action: "post", operationID: "create\(id)\(scoped)\(r.kind)", description: "create a \(r.kind)",
                        parameters: ["dryRun", "fieldManager", "fieldValidation"], requestSchema: object,
                        responses: [("200", object), ("201", object), ("202", object)], kind: r.kind),
                    Operation(
                        method: "delete", action: "deletecollection", operationID: "delete\(id)Collection\(scoped)\(r.kind)",
                        description: "delete collection of \(r.kind)",
                        parameters: [
                            "continue", "dryRun", "fieldSelector", "gracePeriodSeconds", "labelSelector", "limit", "propagationPolicy",
                            "resourceVersion", "resourceVersionMatch",
                        ],
                        requestSchema: metaPrefix + "DeleteOptions", responses: [("200", status)], kind: r.kind),
                ]
            ),
            (
                base + "/{name}", ["name"] + scope + ["pretty"],
                [
                    Operation(
                        method: "get", action: "get", operationID: "read\(id)\(scoped)\(r.kind)",
                        description: "read the specified \(r.kind)",
                        parameters: [], responses: [("200", object)], kind: r.kind),
                    Operation(
                        method: "put", action: "put", operationID: "replace\(id)\(scoped)\(r.kind)",
                        description: "replace the specified \(r.kind)",
                        parameters: ["dryRun", "fieldManager", "fieldValidation"], requestSchema: object,
                        responses: [("200", object), ("201", object)], kind: r.kind),
                    Operation(
                        method: "patch", action: "patch", operationID: "patch\(id)\(scoped)\(r.kind)",
                        description: "partially update the specified \(r.kind)",
                        parameters: ["dryRun", "fieldManager", "fieldValidation", "force"], requestSchema: metaPrefix + "Patch",
                        requestContentTypes: patchTypes,
                        responses: [("200", object), ("201", object)], kind: r.kind),
                    Operation(
                        method: "delete", action: "delete", operationID: "delete\(id)\(scoped)\(r.kind)", description: "delete a \(r.kind)",
                        parameters: ["dryRun", "gracePeriodSeconds", "propagationPolicy"], requestSchema: metaPrefix + "DeleteOptions",
                        responses: [("200", status), ("202", status)], kind: r.kind),
                ]
            ),
        ]
        if r.hasStatusSubresource {
            result.append(
                (
                    base + "/{name}/status", ["name"] + scope + ["pretty"],
                    [
                        Operation(
                            method: "get", action: "get", operationID: "read\(id)\(scoped)\(r.kind)Status",
                            description: "read status of the specified \(r.kind)",
                            parameters: [], responses: [("200", object)], kind: r.kind),
                        Operation(
                            method: "put", action: "put", operationID: "replace\(id)\(scoped)\(r.kind)Status",
                            description: "replace status of the specified \(r.kind)",
                            parameters: ["dryRun", "fieldManager", "fieldValidation"], requestSchema: object,
                            responses: [("200", object), ("201", object)], kind: r.kind),
                        Operation(
                            method: "patch", action: "patch", operationID: "patch\(id)\(scoped)\(r.kind)Status",
                            description: "partially update status of the specified \(r.kind)",
                            parameters: ["dryRun", "fieldManager", "fieldValidation", "force"], requestSchema: metaPrefix + "Patch",
                            requestContentTypes: patchTypes,
                            responses: [("200", object), ("201", object)], kind: r.kind),
                    ]
                ))
        }
        if r.namespaced {
            result.append(
                (
                    r.collectionPath, ["pretty"],
                    [
                        Operation(
                            method: "get", action: "list", operationID: "list\(id)\(r.kind)ForAllNamespaces",
                            description: "list or watch objects of kind \(r.kind)",
                            parameters: ["continue", "fieldSelector", "labelSelector", "limit", "resourceVersion", "resourceVersionMatch"],
                            responses: [("200", list)], kind: r.kind)
                    ]
                ))
        }
        return result
    }

    static func gvk(_ r: ResourceDescriptor, kind: String) -> JSONValue {
        ["group": .string(r.group), "version": .string(r.version), "kind": .string(kind)]
    }

    /// Component schemas: each resource, its list, and the meta.k8s.io types they reference.
    static func components(_ resources: [ResourceDescriptor], refPrefix: String) -> [String: JSONValue] {
        var collected: [String: Schema] = [:]
        var components: [String: JSONValue] = [:]
        for r in resources {
            var object = r.schema.openAPI(refPrefix: refPrefix, collect: &collected)
            object["x-kubernetes-group-version-kind"] = [gvk(r, kind: r.kind)]
            components[r.componentName] = object
            components[r.listComponentName] = [
                "description": .string("\(r.listKind) is a list of \(r.kind)"),
                "type": "object", "required": ["items"],
                "properties": [
                    "apiVersion": [
                        "type": "string", "description": "APIVersion defines the versioned schema of this representation of an object.",
                    ],
                    "kind": [
                        "type": "string", "description": "Kind is a string value representing the REST resource this object represents.",
                    ],
                    "items": [
                        "type": "array", "description": .string("List of \(r.plural)."),
                        "items": ["$ref": .string(refPrefix + r.componentName)],
                    ],
                    "metadata": ["allOf": [["$ref": .string(refPrefix + metaPrefix + "ListMeta")]], "default": [:]],
                ],
                "x-kubernetes-group-version-kind": [gvk(r, kind: r.listKind)],
            ]
        }
        while let (name, schema) = collected.first(where: { components[$0.key] == nil }) {
            var more: [String: Schema] = [:]
            components[name] = schema.openAPI(refPrefix: refPrefix, collect: &more)
            collected.merge(more) { a, _ in a }
        }
        let string: JSONValue = ["type": "string"]
        components[metaPrefix + "ListMeta"] = [
            "description": "ListMeta describes metadata that synthetic resources must have, including lists and various status objects.",
            "type": "object",
            "properties": [
                "continue": [
                    "type": "string", "description": "continue may be set if the user set a limit on the number of items returned.",
                ],
                "remainingItemCount": [
                    "type": "integer", "format": "int64",
                    "description": "The number of subsequent items in the list which are not included in this list response.",
                ],
                "resourceVersion": [
                    "type": "string", "description": "String that identifies the server's internal version of this object.",
                ],
                "selfLink": [
                    "type": "string",
                    "description": "Deprecated: selfLink is a legacy read-only field that is no longer populated by the system.",
                ],
            ],
        ]
        components[metaPrefix + "Patch"] = [
            "description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.", "type": "object",
        ]
        components[metaPrefix + "Preconditions"] = [
            "description": "Preconditions must be fulfilled before an operation (update, delete, etc.) is carried out.", "type": "object",
            "properties": ["resourceVersion": string, "uid": string],
        ]
        components[metaPrefix + "DeleteOptions"] = [
            "description": "DeleteOptions may be provided when deleting an API object.", "type": "object",
            "properties": [
                "apiVersion": string, "kind": string,
                "dryRun": ["type": "array", "items": string, "x-kubernetes-list-type": "atomic"],
                "gracePeriodSeconds": ["type": "integer", "format": "int64"],
                "preconditions": ["allOf": [["$ref": .string(refPrefix + metaPrefix + "Preconditions")]]],
                "propagationPolicy": string,
            ],
        ]
        components[metaPrefix + "StatusCause"] = [
            "description":
                "StatusCause provides more information about an api.Status failure, including cases when multiple errors are encountered.",
            "type": "object", "properties": ["field": string, "message": string, "reason": string],
        ]
        components[metaPrefix + "StatusDetails"] = [
            "description":
                "StatusDetails is a set of additional properties that MAY be set by the server to provide additional information about a response.",
            "type": "object",
            "properties": [
                "causes": ["type": "array", "items": ["$ref": .string(refPrefix + metaPrefix + "StatusCause")]],
                "group": string, "kind": string, "name": string, "uid": string,
                "retryAfterSeconds": ["type": "integer", "format": "int32"],
            ],
        ]
        components[metaPrefix + "Status"] = [
            "description": "Status is a return value for calls that don't return other objects.", "type": "object",
            "properties": [
                "apiVersion": string, "kind": string, "message": string, "reason": string, "status": string,
                "code": ["type": "integer", "format": "int32"],
                "details": ["allOf": [["$ref": .string(refPrefix + metaPrefix + "StatusDetails")]]],
                "metadata": ["allOf": [["$ref": .string(refPrefix + metaPrefix + "ListMeta")]], "default": [:]],
            ],
            "x-kubernetes-group-version-kind": [["group": "", "kind": "Status", "version": "v1"]],
        ]
        return components
    }

    // MARK: v3

    static func v3Parameter(_ p: Parameter) -> JSONValue {
        var schema: [String: JSONValue] = ["type": .string(p.type)]
        if p.uniqueItems { schema["uniqueItems"] = true }
        var m: [String: JSONValue] = [
            "name": .string(p.name), "in": .string(p.location), "description": .string(p.description), "schema": .object(schema),
        ]
        if p.required { m["required"] = true }
        return .object(m)
    }

    static func v3Document(_ resources: [ResourceDescriptor]) -> JSONValue {
        let refPrefix = "#/components/schemas/"
        var paths: [String: JSONValue] = [:]
        for r in resources {
            for (path, pathParameters, operations) in operations(r) {
                var item: [String: JSONValue] = ["parameters": .array(pathParameters.map { v3Parameter(parameter($0)) })]
                for op in operations {
                    var operation: [String: JSONValue] = [
                        "tags": .array([.string("\(r.group.replacingAll(".", with: "_"))_\(r.version)")]),
                        "description": .string(op.description), "operationId": .string(op.operationID),
                        "parameters": .array(op.parameters.map { v3Parameter(parameter($0)) }),
                        "x-kubernetes-action": .string(op.action),
                        "x-kubernetes-group-version-kind": gvk(r, kind: op.kind),
                    ]
                    if let requestSchema = op.requestSchema {
                        var content: [String: JSONValue] = [:]
                        for type in op.requestContentTypes {
                            content[type] = ["schema": ["$ref": .string(refPrefix + requestSchema)]]
                        }
                        operation["requestBody"] = ["content": .object(content), "required": .bool(op.method != "delete")]
                    }
                    var responses: [String: JSONValue] = ["401": ["description": "Unauthorized"]]
                    for (code, schema) in op.responses {
                        responses[code] = [
                            "description": code == "201" ? "Created" : code == "202" ? "Accepted" : "OK",
                            "content": [
                                "application/json": ["schema": ["$ref": .string(refPrefix + schema)]],
                                "application/yaml": ["schema": ["$ref": .string(refPrefix + schema)]],
                            ],
                        ]
                    }
                    operation["responses"] = .object(responses)
                    item[op.method] = .object(operation)
                }
                paths[path] = .object(item)
            }
        }
        let first = resources[0]
        return [
            "openapi": "3.0.0",
            "info": ["title": "Apoxy API", "version": .string(first.version)],
            "paths": .object(paths),
            "components": ["schemas": .object(components(resources, refPrefix: refPrefix))],
        ]
    }

    // MARK: v2

    static func v2Parameter(_ p: Parameter) -> JSONValue {
        var m: [String: JSONValue] = [
            "name": .string(p.name), "in": .string(p.location), "description": .string(p.description), "type": .string(p.type),
        ]
        if p.uniqueItems { m["uniqueItems"] = true }
        if p.required { m["required"] = true }
        return .object(m)
    }

    static func v2Document(_ resources: [ResourceDescriptor]) -> JSONValue {
        let refPrefix = "#/definitions/"
        var paths: [String: JSONValue] = [:]
        for r in resources {
            for (path, pathParameters, operations) in operations(r) {
                var item: [String: JSONValue] = ["parameters": .array(pathParameters.map { v2Parameter(parameter($0)) })]
                for op in operations {
                    var parameters = op.parameters.map { v2Parameter(parameter($0)) }
                    if let requestSchema = op.requestSchema {
                        parameters.append([
                            "name": "body", "in": "body", "required": .bool(op.method != "delete"),
                            "schema": ["$ref": .string(refPrefix + requestSchema)],
                        ])
                    }
                    var responses: [String: JSONValue] = ["401": ["description": "Unauthorized"]]
                    for (code, schema) in op.responses {
                        responses[code] = [
                            "description": code == "201" ? "Created" : code == "202" ? "Accepted" : "OK",
                            "schema": ["$ref": .string(refPrefix + schema)],
                        ]
                    }
                    item[op.method] = [
                        "tags": .array([.string("\(r.group.replacingAll(".", with: "_"))_\(r.version)")]),
                        "description": .string(op.description), "operationId": .string(op.operationID),
                        "consumes": .array(op.requestContentTypes.map { .string($0) }),
                        "produces": ["application/json", "application/yaml"],
                        "schemes": ["https"],
                        "parameters": .array(parameters), "responses": .object(responses),
                        "x-kubernetes-action": .string(op.action),
                        "x-kubernetes-group-version-kind": gvk(r, kind: op.kind),
                    ]
                }
                paths[path] = .object(item)
            }
        }
        return [
            "swagger": "2.0",
            // One document for every group: the version is the server's, as kube-apiserver publishes it.
            "info": ["title": "Apoxy API", "version": Discovery.version["gitVersion"] ?? "unversioned"],
            "paths": .object(paths),
            "definitions": .object(components(resources, refPrefix: refPrefix)),
        ]
    }
}
