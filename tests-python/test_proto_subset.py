"""The committed Envoy proto subset (Protos/envoy, Protos/google) against upstream (PyPI xds-protos).

Every message, field, enum value and service method; the checks are in proto_subset_check.py, shared with the etcd
subset's test_etcd_proto_subset.py.
"""
import pytest

import proto_subset_check as check
from proto_subset_check import generate


@pytest.fixture(scope="module")
def upstream():
    return generate.load_upstream()


@pytest.fixture(scope="module")
def committed(tmp_path_factory):
    return check.compile_committed(generate.ENVOY, tmp_path_factory.mktemp("desc") / "subset.pb")


def test_every_field_matches_upstream(upstream, committed):
    assert check.check_fields(upstream, committed) > 90


def test_every_enum_matches_upstream(upstream, committed):
    assert len(check.check_enums(upstream, committed)) >= 5


def test_every_service_method_matches_upstream(upstream, committed):
    assert sorted(check.check_services(upstream, committed)) == [
        "envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources",
        "envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"]


def test_subset_list_and_generated_swift_are_current(upstream):
    check.check_current(generate.ENVOY, upstream)
