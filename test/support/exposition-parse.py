"""Parses a Prometheus exposition read from stdin with Prometheus' own Python client
(Debian's python3-prometheus-client) and prints its families as JSON, for the tests.

Usage: exposition-parse.py openmetrics|prometheus < exposition
A text the parser refuses exits 1 with the parser's message on stderr.
"""
import json
import math
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_prometheus


def number(value):
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return value


def main():
    fmt = sys.argv[1]
    text = sys.stdin.buffer.read().decode("utf-8")
    parse = parse_openmetrics if fmt == "openmetrics" else parse_prometheus
    try:
        families = [
            {
                "name": f.name,
                "type": f.type,
                "unit": f.unit,
                "help": f.documentation,
                "samples": [{"name": s.name, "labels": s.labels, "value": number(s.value)} for s in f.samples],
            }
            for f in parse(text)
        ]
    except Exception as error:  # the parser's refusal, said as it said it
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
    json.dump(families, sys.stdout)


main()
