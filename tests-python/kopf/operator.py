"""A small kopf operator on Backends, run unchanged against the apoxy server by test_kopf_operator.py.

Each handler leaves a mark the test can read back: a label (a patch of the object), a condition (a patch of
/status), an Event (kopf.info), and the finalizer kopf adds so that on.delete runs before the object goes.
"""
import datetime

import kopf

GROUP, VERSION, PLURAL = "core.apoxy.dev", "v1alpha2", "backends"


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_):
    settings.persistence.finalizer = "kopf.example.apoxy.dev/finalizer"
    settings.posting.reporting_component = "kopf-test"
    # Short server-side timeouts: the watch is re-established often, which exercises resourceVersion resumption.
    settings.watching.server_timeout = 20
    settings.watching.client_timeout = 30


def _condition(reason, message):
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [{"type": "Reviewed", "status": "True", "reason": reason, "message": message, "lastTransitionTime": now}]


@kopf.on.create(GROUP, VERSION, PLURAL)
def created(name, body, patch, **_):
    patch.metadata.labels["kopf-seen"] = "created"
    patch.status["conditions"] = _condition("Created", f"kopf saw {name} created")
    kopf.info(body, reason="KopfCreated", message=f"kopf saw {name} created")


@kopf.on.update(GROUP, VERSION, PLURAL, field="spec")
def updated(name, body, patch, **_):
    patch.metadata.labels["kopf-seen"] = "updated"
    patch.status["conditions"] = _condition("Updated", f"kopf saw {name} updated")
    kopf.info(body, reason="KopfUpdated", message=f"kopf saw {name} updated")


@kopf.on.delete(GROUP, VERSION, PLURAL)
def deleted(name, body, **_):
    kopf.info(body, reason="KopfDeleted", message=f"kopf saw {name} deleted")
