"""The committed Envoy proto subset (Protos/) against upstream (PyPI xds-protos): every message, field and enum value.

The committed .proto files are compiled with protoc (grpcio-tools) into descriptors, independently of the generator,
and compared with the upstream descriptors by name, number, type, label and oneof. The generated Swift must come from
exactly these files (digest written by the generator).
"""
import hashlib
import pathlib
import subprocess
import sys

import pytest
from google.protobuf import descriptor_pb2

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts/proto"))
import generate  # noqa: E402

PROTOS = ROOT / "Protos"


@pytest.fixture(scope="module")
def upstream():
    return generate.load_upstream()


@pytest.fixture(scope="module")
def committed(tmp_path_factory):
    import grpc_tools
    include = pathlib.Path(grpc_tools.__file__).parent / "_proto"
    out = tmp_path_factory.mktemp("desc") / "subset.pb"
    files = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTOS}", f"-I{include}",
                    f"--descriptor_set_out={out}", *files], check=True)
    descriptor_set = descriptor_pb2.FileDescriptorSet()
    descriptor_set.ParseFromString(out.read_bytes())
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


def test_every_field_matches_upstream(upstream, committed):
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
    assert checked > 90


def test_every_enum_matches_upstream(upstream, committed):
    enums = 0
    for file in committed.file:
        for name, enum in walk_enums(file.package, file.message_type, file.enum_type):
            theirs = upstream.FindEnumTypeByName(name)
            assert [(v.name, v.number) for v in enum.value] == [(v.name, v.number) for v in theirs.values], name
            enums += 1
    assert enums >= 5


def test_subset_list_and_generated_swift_are_current():
    # Regenerating the .proto text from subset.txt must give exactly what is committed ...
    emitter = generate.Emitter(generate.load_upstream(), generate.read_subset())
    expected = emitter.files()
    actual = {str(p.relative_to(PROTOS)): p.read_text() for p in PROTOS.rglob("*.proto")}
    assert actual == expected, "Protos/ is stale: run scripts/proto/generate.sh"
    # ... and the committed Swift must have been generated from these files.
    recorded = (ROOT / "Sources/EnvoyAPI/Generated/PROTOS.sha256").read_text().strip()
    assert recorded == generate.protos_digest(), "Sources/EnvoyAPI/Generated is stale: run scripts/proto/generate.sh"
