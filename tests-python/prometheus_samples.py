"""A /metrics exposition as samples, through prometheus-client's parser (which raises on anything malformed)."""
from prometheus_client.parser import text_string_to_metric_families


def samples(text):
    """Every sample as {(name, frozenset(labels)): value}."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(all_samples, name, **labels):
    """The sum of the samples of `name` whose labels include `labels` (as PromQL's sum by), or None for none."""
    matched = [v for (n, ls), v in all_samples.items() if n == name and set(labels.items()) <= ls]
    return sum(matched) if matched else None
