#!/usr/bin/env python3
"""Writes minimal .proto subsets (Protos/) from upstream descriptors, and optionally the Swift code.

Two targets share this code:
  - Envoy (default): PyPI xds-protos descriptors, scripts/proto/subset.txt -> Protos/{envoy,google}/,
    Sources/EnvoyAPI/Generated/;
  - etcd (--etcd): etcd's own rpc.proto and kv.proto from Debian golang-etcd-server-dev (3.4.23), compiled unmodified
    with protoc (their gogoproto and google.api imports come from the Debian packages it depends on),
    scripts/proto/etcd-subset.txt -> Protos/etcd/, Sources/EtcdAPI/Generated/.

Every message, field number, type, label, oneof, enum value and service method comes from upstream; the subset file
only says which messages and fields (or service methods) to keep. tests-python/test_proto_subset.py and
tests-python/test_etcd_proto_subset.py check the committed result against upstream again in CI.

Usage: generate.py [--etcd] [--swift PROTOC_GEN_SWIFT]   (scripts/proto/generate.sh builds the plugin and passes it)
"""
import argparse
import dataclasses
import hashlib
import importlib
import pathlib
import pkgutil
import subprocess
import sys
import tempfile
from typing import Callable

from google.protobuf import descriptor_pb2, descriptor_pool

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROTOS = ROOT / "Protos"
SCALARS = {1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 6: "fixed64", 7: "fixed32", 8: "bool",
           9: "string", 12: "bytes", 13: "uint32", 15: "sfixed32", 16: "sfixed64", 17: "sint32", 18: "sint64"}

# etcd's sources as Debian installs them (scripts/install-tools.sh); the import paths rpc.proto uses
# ("etcd/mvcc/mvccpb/kv.proto", "gogoproto/gogo.proto", "google/api/annotations.proto") resolve against these roots.
GOCODE = pathlib.Path("/usr/share/gocode/src")
ETCD_INCLUDES = [
    GOCODE / "go.etcd.io",
    GOCODE / "github.com/gogo/protobuf",
    GOCODE / "github.com/grpc-ecosystem/grpc-gateway/third_party/googleapis",
]
ETCD_FILES = ["etcd/etcdserver/etcdserverpb/rpc.proto", "etcd/mvcc/mvccpb/kv.proto"]


def protobuf_include():
    """grpcio-tools' copy of google/protobuf/*.proto (descriptor.proto, well-known types)."""
    import grpc_tools
    return pathlib.Path(grpc_tools.__file__).parent / "_proto"


def protoc(includes, files, *options):
    """Runs grpcio-tools' protoc with the well-known types on the include path."""
    subprocess.run([
        sys.executable, "-m", "grpc_tools.protoc", *(f"-I{i}" for i in includes), f"-I{protobuf_include()}",
        *options, *files,
    ], check=True)


def compile_descriptor_set(includes, files, *options):
    """protoc's FileDescriptorSet for these files."""
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "set.pb"
        protoc(includes, files, f"--descriptor_set_out={out}", *options)
        descriptor_set = descriptor_pb2.FileDescriptorSet()
        descriptor_set.ParseFromString(out.read_bytes())
    return descriptor_set


def read_subset(path=None):
    """Message (or service) full name -> list of kept field (or method) names, in file order."""
    subset = {}
    for line in (path or ENVOY.subset).read_text().splitlines():
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


def load_etcd_upstream():
    """A pool of etcd's rpc.proto and kv.proto (and their imports), compiled unmodified from the Debian sources."""
    missing = [str(i / f) for i in ETCD_INCLUDES[:1] for f in ETCD_FILES if not (i / f).exists()]
    if missing:
        sys.exit(f"missing {', '.join(missing)}: run scripts/install-tools.sh (Debian golang-etcd-server-dev)")
    pool = descriptor_pool.DescriptorPool()
    for file in compile_descriptor_set(ETCD_INCLUDES, ETCD_FILES, "--include_imports").file:
        pool.AddSerializedFile(file.SerializeToString())
    return pool


@dataclasses.dataclass(frozen=True)
class Target:
    """One generated subset: where its upstream comes from, which Protos/ folders it owns, where its Swift goes."""
    name: str
    subset: pathlib.Path
    source: str                      # for the header of every written .proto
    roots: tuple                     # top-level folders of Protos/ this target writes (and only these)
    prefix: str                      # path of a package's file: prefix + package with dots as slashes
    generated: pathlib.Path
    load: Callable
    well_known: dict = dataclasses.field(default_factory=dict)

    def path(self, package):
        return self.prefix + package.replace(".", "/") + "/subset.proto"

    def proto_files(self):
        """The committed .proto files of this target, relative to Protos/."""
        return sorted(str(p.relative_to(PROTOS)) for root in self.roots for p in (PROTOS / root).rglob("*.proto"))


ENVOY = Target(
    name="envoy",
    subset=ROOT / "scripts/proto/subset.txt",
    source="xds-protos descriptors",
    roots=("envoy", "google"),
    prefix="",
    generated=ROOT / "Sources/EnvoyAPI/Generated",
    load=load_upstream,
    well_known={
        "google.protobuf.Any": "google/protobuf/any.proto",
        "google.protobuf.Duration": "google/protobuf/duration.proto",
        "google.protobuf.UInt32Value": "google/protobuf/wrappers.proto",
        "google.protobuf.BoolValue": "google/protobuf/wrappers.proto",
    },
)
ETCD = Target(
    name="etcd",
    subset=ROOT / "scripts/proto/etcd-subset.txt",
    source="etcd's rpc.proto and kv.proto (Debian golang-etcd-server-dev)",
    roots=("etcd",),
    prefix="etcd/",
    generated=ROOT / "Sources/EtcdAPI/Generated",
    load=load_etcd_upstream,
)
TARGETS = {t.name: t for t in (ENVOY, ETCD)}
# Kept for callers from before there were two targets.
SUBSET = ENVOY.subset
GENERATED = ENVOY.generated
WELL_KNOWN = ENVOY.well_known


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


def find_service(pool, name):
    try:
        return pool.FindServiceByName(name)
    except KeyError:
        return None


class Emitter:
    def __init__(self, pool, subset, target=ENVOY):
        self.pool, self.subset, self.target = pool, subset, target
        self.services = {}
        for name in list(subset):
            service = find_service(pool, name)
            if service is not None:
                self.services[name] = service
        self.messages = {name: pool.FindMessageTypeByName(name) for name in subset if name not in self.services}
        self.enums = {}
        for name, methods in subset.items():
            if name not in self.services:
                continue
            for method_name in methods:
                method = self.services[name].methods_by_name.get(method_name)
                if method is None:
                    sys.exit(f"{name} has no method {method_name} upstream")
                for used in (method.input_type, method.output_type):
                    if used.full_name not in subset:
                        sys.exit(f"{name}.{method_name} uses {used.full_name}, "
                                 f"which {target.subset.name} does not keep")
        for name, fields in subset.items():
            if name in self.services:
                continue
            message = self.messages[name]
            for field_name in fields:
                if field_name not in message.fields_by_name:
                    sys.exit(f"{name} has no field {field_name} upstream")
                field = message.fields_by_name[field_name]
                for used in self.used_types(field):
                    if used.full_name in target.well_known:
                        continue
                    if hasattr(used, "values"):
                        self.enums[used.full_name] = used
                    elif used.full_name not in subset:
                        sys.exit(f"{name}.{field_name} uses {used.full_name}, which {target.subset.name} does not keep")
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

    def emit_service(self, service):
        """The kept methods in upstream's order, without their options (gRPC-gateway HTTP rules)."""
        def type_name(message, streaming):
            name = message.name if message.file.package == service.file.package and message.containing_type is None \
                else "." + message.full_name
            return ("stream " if streaming else "") + name
        kept = set(self.subset[service.full_name])
        lines = [f"service {service.name} {{"]
        for method in service.methods:
            if method.name in kept:
                lines.append(f"  rpc {method.name}({type_name(method.input_type, method.client_streaming)}) "
                             f"returns ({type_name(method.output_type, method.server_streaming)});")
        lines.append("}")
        return lines

    def files(self):
        """Protos/-relative path -> .proto text; one file per package."""
        packages = {d.file.package for d in [*self.messages.values(), *self.enums.values(), *self.services.values()]}
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
                        imports.add(self.target.well_known.get(used.full_name) or self.path(used.file.package))
            for name, enum in sorted(self.enums.items()):
                if enum.file.package == package and enum.containing_type is None:
                    body += self.emit_enum(enum, 0)
                    body.append("")
            for name, service in sorted(self.services.items()):
                if service.file.package == package:
                    body += self.emit_service(service)
                    body.append("")
                    for method in service.methods:
                        if method.name in self.subset[name]:
                            imports.update(self.path(t.file.package) for t in (method.input_type, method.output_type))
            imports.discard(self.path(package))
            header = [
                f"// Generated by scripts/proto/generate.py from {self.target.source}. "
                f"Do not edit; edit {self.target.subset.name}.",
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

    def path(self, package):
        return self.target.path(package)


def write_protos(target=ENVOY):
    emitter = Emitter(target.load(), read_subset(target.subset), target)
    files = emitter.files()
    for old in target.proto_files():
        (PROTOS / old).unlink()
    for path, text in files.items():
        out = PROTOS / path
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    return sorted(files)


def protos_digest(target=ENVOY):
    digest = hashlib.sha256()
    for path in target.proto_files():
        digest.update(path.encode() + b"\0" + (PROTOS / path).read_bytes())
    return digest.hexdigest()


def write_swift(plugin, files, target=ENVOY):
    if target.generated.exists():
        for old in target.generated.glob("*.swift"):
            old.unlink()
    target.generated.mkdir(parents=True, exist_ok=True)
    protoc([PROTOS], files, f"--plugin=protoc-gen-swift={plugin}", f"--swift_out={target.generated}",
           "--swift_opt=Visibility=Public,FileNaming=PathToUnderscores")
    (target.generated / "PROTOS.sha256").write_text(protos_digest(target) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--etcd", action="store_true", help="the etcd subset instead of the Envoy one")
    parser.add_argument("--swift", metavar="PROTOC_GEN_SWIFT", help="also generate Swift with this plugin")
    args = parser.parse_args()
    target = ETCD if args.etcd else ENVOY
    files = write_protos(target)
    print(f"wrote {len(files)} .proto files under {PROTOS.relative_to(ROOT)} from {target.subset.name}")
    if args.swift:
        write_swift(args.swift, files, target)
        print(f"wrote Swift under {target.generated.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
