"""Rendered custom resources already hold what their CRDs default inside lists.

Static guard for the bug a real cluster found (issue 16): the ExternalSecret's
``spec.data[].remoteRef`` lacked the three fields the External Secrets CRD
defaults, so Argo CD saw it OutOfSync forever. tests/cluster proves the fix
on a real API server and Argo CD; this test sees the same class of bug in
milliseconds, for every values file and every CRD kept in tests/chart/crds.
"""

from __future__ import annotations

from pathlib import Path

from tests.chart.crd_defaults import crd_schemas, defaulted_in_atomic_lists
from tests.chart.render import render

SCHEMAS = crd_schemas()


def test_the_kept_crds_are_found() -> None:
    assert ("external-secrets.io/v1", "ExternalSecret") in SCHEMAS


def test_no_crd_default_is_missing_inside_a_list(values_file: Path) -> None:
    missing = {
        f"{obj['kind']}/{obj['metadata']['name']}": list(
            defaulted_in_atomic_lists(obj, SCHEMAS[(obj["apiVersion"], obj["kind"])])
        )
        for obj in render([values_file])
        if (obj.get("apiVersion"), obj.get("kind")) in SCHEMAS
    }
    assert {name: paths for name, paths in missing.items() if paths} == {}


def test_the_check_sees_the_original_bug() -> None:
    bare = {"spec": {"data": [{"secretKey": "password", "remoteRef": {"key": "db"}}]}}
    schema = SCHEMAS[("external-secrets.io/v1", "ExternalSecret")]
    found = sorted(p.split(" ")[0] for p in defaulted_in_atomic_lists(bare, schema))
    assert found == [
        ".spec.data[0].remoteRef.conversionStrategy",
        ".spec.data[0].remoteRef.decodingStrategy",
        ".spec.data[0].remoteRef.metadataPolicy",
    ]
