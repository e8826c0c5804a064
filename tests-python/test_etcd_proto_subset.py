"""The committed etcd v3 API subset (Protos/etcd) against upstream: etcd's rpc.proto and kv.proto as Debian
golang-etcd-server-dev installs them (scripts/install-tools.sh), compiled unmodified.

Every kept field by name, number, type, label, message/enum type and oneof; every enum value; every service method;
and that Sources/EtcdAPI/Generated was made from exactly these files. The checks are in proto_subset_check.py, shared
with the Envoy subset's test_proto_subset.py.
"""
import pytest

import proto_subset_check as check
from proto_subset_check import generate

TARGET = generate.ETCD


@pytest.fixture(scope="module")
def upstream():
    return generate.load_etcd_upstream()


@pytest.fixture(scope="module")
def committed(tmp_path_factory):
    return check.compile_committed(TARGET, tmp_path_factory.mktemp("desc") / "subset.pb")


def test_committed_files_are_the_upstream_packages(committed):
    assert sorted(f.package for f in committed.file) == ["etcdserverpb", "mvccpb"]


def test_every_kept_field_matches_upstream(upstream, committed):
    # Exactly the fields etcd-subset.txt keeps are committed, and each is upstream's.
    kept = sum(len(fields) for name, fields in generate.read_subset(TARGET.subset).items()
               if generate.find_service(upstream, name) is None)
    assert check.check_fields(upstream, committed) == kept


def test_oneofs_are_upstreams(committed):
    oneofs = {}
    for file in committed.file:
        for name, message in check.walk_messages(file.package, file.message_type):
            for index, oneof in enumerate(message.oneof_decl):
                oneofs[f"{name}.{oneof.name}"] = [f.name for f in message.field if f.HasField("oneof_index")
                                                  and f.oneof_index == index]
    assert oneofs == {
        "etcdserverpb.Compare.target_union": ["version", "create_revision", "mod_revision", "value", "lease"],
        "etcdserverpb.RequestOp.request": ["request_range", "request_put", "request_delete_range", "request_txn"],
        "etcdserverpb.ResponseOp.response": ["response_range", "response_put", "response_delete_range",
                                             "response_txn"],
        "etcdserverpb.WatchRequest.request_union": ["create_request", "cancel_request", "progress_request"],
    }


def test_every_enum_matches_upstream(upstream, committed):
    assert sorted(check.check_enums(upstream, committed)) == [
        "etcdserverpb.Compare.CompareResult", "etcdserverpb.Compare.CompareTarget",
        "etcdserverpb.RangeRequest.SortOrder", "etcdserverpb.RangeRequest.SortTarget",
        "etcdserverpb.WatchCreateRequest.FilterType", "mvccpb.Event.EventType",
    ]


def test_every_service_method_matches_upstream(upstream, committed):
    assert sorted(check.check_services(upstream, committed)) == [
        "etcdserverpb.KV/Compact", "etcdserverpb.KV/DeleteRange", "etcdserverpb.KV/Put", "etcdserverpb.KV/Range",
        "etcdserverpb.KV/Txn", "etcdserverpb.Maintenance/Status", "etcdserverpb.Watch/Watch",
    ]


def test_subset_list_and_generated_swift_are_current(upstream):
    check.check_current(TARGET, upstream)
