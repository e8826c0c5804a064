#!/usr/bin/env python3
"""Writes the minimal Envoy .proto subset (Protos/) from upstream descriptors, and optionally the Swift code.

Every message, field number, type, label, oneof and enum value comes from the descriptors that PyPI's xds-protos
ships; scripts/proto/subset.txt only says which messages and fields to keep. tests-python/test_proto_subset.py
checks the committed result against upstream again in CI.

Usage: generate.py [--swift PROTOC_GEN_SWIFT]   (scripts/proto/generate.sh builds the plugin and passes it)
"""
import argparse
import hashlib
import importlib
import pathlib
import pkgutil
import subprocess
import sys

from google.protobuf import descriptor_pool

ROOT = pathlib.Path(__file__).resolve().parents[2]
SUBSET = ROOT / "scripts/proto/subset.txt"
PROTOS = ROOT / "Protos"
GENERATED = ROOT / "Sources/EnvoyAPI/Generated"
WELL_KNOWN = {
    "google.protobuf.Any": "google/protobuf/any.proto",
    "google.protobuf.Duration": "google/protobuf/duration.proto",
    "google.protobuf.UInt32Value": "google/protobuf/wrappers.proto",
    "google.protobuf.BoolValue": "google/protobuf/wrappers.proto",
}
SCALARS = {1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 6: "fixed64", 7: "fixed32", 8: "bool",
           9: "string", 12: "bytes", 13: "uint32", 15: "sfixed32", 16: "sfixed64", 17: "sint32", 18: "sint64"}
SERVICES = {
    "envoy.service.discovery.v3": [
        "service AggregatedDiscoveryService {",
        "  rpc StreamAggregatedResources(stream DiscoveryRequest) returns (stream DiscoveryResponse);",
        "}",
    ],
}


def read_subset(path=SUBSET):
    """Message full name -> list of kept field names, in file order."""
    subset = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, fields = line.partition(":")
        subset[name.strip()] = fields.split()
    return subset


def load_upstream():
    """Imports every generated module of xds-protos, so the default pool knows every upstream type."""
    import envoy  # noqa: F401  (xds-protos)
    import google.rpc  # noqa: F401
    for package in ("envoy", "google.rpc"):
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, package + "."):
            if info.name.endswith("_pb2"):
                try:
                    importlib.import_module(info.name)
                except Exception:  # a few optional modules need packages we do not install; none are in the subset
                    pass
    return descriptor_pool.Default()


def is_synthetic_oneof(field):
    oneof = field.containing_oneof
    return oneof is not None and oneof.name == "_" + field.name and len(oneof.fields) == 1


def field_type(field):
    if field.type == 11:
        return "." + field.message_type.full_name
    if field.type == 14:
        return "." + field.enum_type.full_name
    return SCALARS[field.type]


def map_entry(field):
    if field.type == 11 and field.message_type.GetOptions().map_entry:
        key, value = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
        return f"map<{field_type(key)}, {field_type(value)}>"
    return None


class Emitter:
    def __init__(self, pool, subset):
        self.pool, self.subset = pool, subset
        self.messages = {name: pool.FindMessageTypeByName(name) for name in subset}
        self.enums = {}
        for name, fields in subset.items():
            message = self.messages[name]
            for field_name in fields:
                if field_name not in message.fields_by_name:
                    sys.exit(f"{name} has no field {field_name} upstream")
                field = message.fields_by_name[field_name]
                for used in self.used_types(field):
                    if used.full_name in WELL_KNOWN:
                        continue
                    if hasattr(used, "values"):
                        self.enums[used.full_name] = used
                    elif used.full_name not in subset:
                        sys.exit(f"{name}.{field_name} uses {used.full_name}, which subset.txt does not keep")
        # Messages that only contain a kept nested type are emitted as empty shells.
        for full_name in list(self.messages) + list(self.enums):
            descriptor = self.messages.get(full_name) or self.enums[full_name]
            parent = descriptor.containing_type
            while parent is not None:
                self.messages.setdefault(parent.full_name, parent)
                self.subset.setdefault(parent.full_name, [])
                parent = parent.containing_type

    def used_types(self, field):
        if map_entry(field):
            return [f.message_type or f.enum_type for f in field.message_type.fields if f.type in (11, 14)]
        if field.type == 11:
            return [field.message_type]
        if field.type == 14:
            return [field.enum_type]
        return []

    def emit_enum(self, enum, indent):
        pad = "  " * indent
        lines = [f"{pad}enum {enum.name} {{"]
        if enum.GetOptions().allow_alias:
            lines.append(f"{pad}  option allow_alias = true;")
        for value in enum.values:
            lines.append(f"{pad}  {value.name} = {value.number};")
        lines.append(f"{pad}}}")
        return lines

    def emit_message(self, message, indent):
        pad = "  " * indent
        lines = [f"{pad}message {message.name} {{"]
        for nested in message.nested_types:
            if nested.full_name in self.messages:
                lines += self.emit_message(nested, indent + 1)
        for enum in message.enum_types:
            if enum.full_name in self.enums:
                lines += self.emit_enum(enum, indent + 1)
        kept = [message.fields_by_name[n] for n in self.subset[message.full_name]]
        kept.sort(key=lambda f: f.number)
        emitted_oneofs = set()
        for field in kept:
            oneof = field.containing_oneof
            if oneof is not None and not is_synthetic_oneof(field):
                if oneof.name in emitted_oneofs:
                    continue
                emitted_oneofs.add(oneof.name)
                lines.append(f"{pad}  oneof {oneof.name} {{")
                for member in sorted((f for f in kept if f.containing_oneof is oneof), key=lambda f: f.number):
                    lines.append(f"{pad}    {field_type(member)} {member.name} = {member.number};")
                lines.append(f"{pad}  }}")
                continue
            entry = map_entry(field)
            if entry:
                lines.append(f"{pad}  {entry} {field.name} = {field.number};")
            else:
                label = "repeated " if field.is_repeated else ("optional " if is_synthetic_oneof(field) else "")
                lines.append(f"{pad}  {label}{field_type(field)} {field.name} = {field.number};")
        lines.append(f"{pad}}}")
        return lines

    def files(self):
        """Package -> .proto text; one file per package."""
        packages = {}
        for descriptor in list(self.messages.values()) + list(self.enums.values()):
            packages.setdefault(descriptor.file.package, set())
        out = {}
        for package in sorted(packages):
            imports = set()
            body = []
            for name, message in sorted(self.messages.items()):
                if message.file.package != package or message.containing_type is not None:
                    continue
                body += self.emit_message(message, 0)
                body.append("")
                for inner in self.all_kept_fields(message):
                    for used in self.used_types(inner):
                        imports.add(WELL_KNOWN.get(used.full_name) or self.path(used.file.package))
            for name, enum in sorted(self.enums.items()):
                if enum.file.package == package and enum.containing_type is None:
                    body += self.emit_enum(enum, 0)
                    body.append("")
            body += SERVICES.get(package, [])
            imports.discard(self.path(package))
            header = [
                "// Generated by scripts/proto/generate.py from xds-protos descriptors. Do not edit; edit subset.txt.",
                'syntax = "proto3";',
                "",
                f"package {package};",
                "",
            ] + [f'import "{i}";' for i in sorted(imports)] + ([""] if imports else [])
            out[self.path(package)] = "\n".join(header + body).rstrip() + "\n"
        return out

    def all_kept_fields(self, message):
        fields = [message.fields_by_name[n] for n in self.subset.get(message.full_name, [])]
        for nested in message.nested_types:
            if nested.full_name in self.messages:
                fields += self.all_kept_fields(nested)
        return fields

    @staticmethod
    def path(package):
        return package.replace(".", "/") + "/subset.proto"


def write_protos():
    emitter = Emitter(load_upstream(), read_subset())
    files = emitter.files()
    if PROTOS.exists():
        for old in PROTOS.rglob("*.proto"):
            old.unlink()
    for path, text in files.items():
        target = PROTOS / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return sorted(files)


def protos_digest():
    digest = hashlib.sha256()
    for path in sorted(PROTOS.rglob("*.proto")):
        digest.update(str(path.relative_to(PROTOS)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def write_swift(plugin, files):
    import grpc_tools
    include = pathlib.Path(grpc_tools.__file__).parent / "_proto"
    if GENERATED.exists():
        for old in GENERATED.glob("*.swift"):
            old.unlink()
    GENERATED.mkdir(parents=True, exist_ok=True)
    subprocess.run([
        sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTOS}", f"-I{include}",
        f"--plugin=protoc-gen-swift={plugin}", f"--swift_out={GENERATED}",
        "--swift_opt=Visibility=Public,FileNaming=PathToUnderscores", *files,
    ], check=True)
    (GENERATED / "PROTOS.sha256").write_text(protos_digest() + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--swift", metavar="PROTOC_GEN_SWIFT", help="also generate Swift with this plugin")
    args = parser.parse_args()
    files = write_protos()
    print(f"wrote {len(files)} .proto files under {PROTOS.relative_to(ROOT)}")
    if args.swift:
        write_swift(args.swift, files)
        print(f"wrote Swift under {GENERATED.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
