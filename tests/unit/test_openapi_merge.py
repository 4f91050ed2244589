"""The merged OpenAPI document keeps two applications' same-named schemas apart."""

from deployments.portal.openapi import merge


def _doc(path: str, usage: dict) -> dict:
    ref = {"$ref": "#/components/schemas/Usage"}
    ok = {"200": {"content": {"application/json": {"schema": ref}}}}
    return {
        "paths": {path: {"get": {"responses": ok}}},
        "components": {"schemas": {"Usage": usage, "Problem": {"title": "Problem"}}},
    }


def _schema_ref(doc: dict, path: str) -> str:
    return doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"][
        "$ref"
    ]


def test_clashing_components_are_renamed_with_their_references():
    merged = merge(
        {"title": "t"},
        {
            "assets": _doc("/api/v2/assets/usage", {"required": ["bytes"]}),
            "generation": _doc("/api/v2/llm/usage", {"required": ["tokens"]}),
        },
    )
    schemas = merged["components"]["schemas"]
    assert _schema_ref(merged, "/api/v2/assets/usage") == "#/components/schemas/Usage"
    assert _schema_ref(merged, "/api/v2/llm/usage") == "#/components/schemas/generation__Usage"
    assert schemas["Usage"] == {"required": ["bytes"]}
    assert schemas["generation__Usage"] == {"required": ["tokens"]}
    assert "generation__Problem" not in schemas  # equal components are shared, not copied
