"""Checks shared by test_proto_subset.py (Envoy) and test_etcd_proto_subset.py (etcd).

The committed .proto files of one target (scripts/proto/generate.py's Target) are compiled with protoc (grpcio-tools)
into descriptors, independently of the generator, and compared with upstream's descriptors: every field by name,
number, type, label, message or enum type and oneof; every enum value; every service method's types and streaming.
Regenerating from the subset file must give exactly the committed files, and the generated Swift must come from
exactly these files (digest written by the generator).
"""
import pathlib
import subprocess
import sys

from google.protobuf import descriptor_pb2

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts/proto"))
import generate  # noqa: E402

PROTOS = generate.PROTOS


def compile_committed(target, out):
    """The FileDescriptorSet of the target's committed .proto files, written to `out` by protoc."""
    import grpc_tools
    include = pathlib.Path(grpc_tools.__file__).parent / "_proto"
    files = target.proto_files()
    assert files, f"no committed .proto files for {target.name}"
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTOS}", f"-I{include}",
                    f"--descriptor_set_out={out}", *files], check=True)
    descriptor_set = descriptor_pb2.FileDescriptorSet()
    descriptor_set.ParseFromString(pathlib.Path(out).read_bytes())
    return descriptor_set


def walk_messages(prefix, messages):
    for message in messages:
        name = f"{prefix}.{message.name}"
        yield name, message
        yield from walk_messages(name, message.nested_type)


def walk_enums(prefix, messages, enums):
    for enum in enums:
        yield f"{prefix}.{enum.name}", enum
    for message in messages:
        yield from walk_enums(f"{prefix}.{message.name}", message.nested_type, message.enum_type)


def check_fields(upstream, committed):
    """Asserts every committed field matches upstream; returns how many were checked."""
    checked = 0
    for file in committed.file:
        for name, message in walk_messages(file.package, file.message_type):
            if message.options.map_entry:
                continue
            theirs = upstream.FindMessageTypeByName(name)
            for field in message.field:
                assert field.name in theirs.fields_by_name, f"{name}.{field.name} does not exist upstream"
                other = theirs.fields_by_name[field.name]
                where = f"{name}.{field.name}"
                assert field.number == other.number, where
                assert field.type == other.type, where
                assert (field.label == field.LABEL_REPEATED) == other.is_repeated, where
                if field.type == field.TYPE_MESSAGE:
                    assert field.type_name.lstrip(".") == other.message_type.full_name, where
                if field.type == field.TYPE_ENUM:
                    assert field.type_name.lstrip(".") == other.enum_type.full_name, where
                ours_oneof = message.oneof_decl[field.oneof_index].name if field.HasField("oneof_index") else None
                if field.proto3_optional:
                    ours_oneof = None
                theirs_oneof = other.containing_oneof.name if other.containing_oneof else None
                if theirs_oneof and generate.is_synthetic_oneof(other):
                    theirs_oneof = None
                assert ours_oneof == theirs_oneof, where
                checked += 1
    return checked


def check_enums(upstream, committed):
    """Asserts every committed enum has exactly upstream's values; returns the enums' full names."""
    names = []
    for file in committed.file:
        for name, enum in walk_enums(file.package, file.message_type, file.enum_type):
            theirs = upstream.FindEnumTypeByName(name)
            assert [(v.name, v.number) for v in enum.value] == [(v.name, v.number) for v in theirs.values], name
            names.append(name)
    return names


def check_services(upstream, committed):
    """Asserts every committed service method matches upstream; returns the methods' full names."""
    methods = []
    for file in committed.file:
        for service in file.service:
            theirs = upstream.FindServiceByName(f"{file.package}.{service.name}")
            for method in service.method:
                where = f"{theirs.full_name}/{method.name}"
                other = theirs.methods_by_name.get(method.name)
                assert other is not None, f"{where} does not exist upstream"
                assert method.input_type.lstrip(".") == other.input_type.full_name, where
                assert method.output_type.lstrip(".") == other.output_type.full_name, where
                assert method.client_streaming == other.client_streaming, where
                assert method.server_streaming == other.server_streaming, where
                methods.append(where)
    return methods


def check_current(target, upstream):
    """Protos/ is what the subset file gives today, and the committed Swift was generated from exactly it."""
    emitter = generate.Emitter(upstream, generate.read_subset(target.subset), target)
    expected = emitter.files()
    actual = {path: (PROTOS / path).read_text() for path in target.proto_files()}
    assert actual == expected, f"Protos/ ({target.name}) is stale: run scripts/proto/generate.sh"
    swift = sorted(p.name for p in target.generated.glob("*.swift"))
    assert swift == sorted(path.replace("/", "_").removesuffix(".proto") + ".pb.swift" for path in expected), \
        f"{target.generated.relative_to(ROOT)} does not hold one .pb.swift per .proto: run scripts/proto/generate.sh"
    recorded = (target.generated / "PROTOS.sha256").read_text().strip()
    assert recorded == generate.protos_digest(target), \
        f"{target.generated.relative_to(ROOT)} is stale: run scripts/proto/generate.sh"
