"""The LLM application: a vLLM engine per replica, its OpenAI-compatible routes (/v1) and
the typed calls (`LLMCalls`) of the generation services.

serve_config.yaml: `import_path: deployments.llm:build`, route prefix /v1. Needs the
llm-cpu or llm-gpu extra (vLLM)."""

from deployments.llm.app import LLMAppConfig, LLMIngress, build

INGRESS = LLMIngress
__all__ = ["INGRESS", "LLMAppConfig", "build"]
