"""The characters application: characters, their versions, experience and links.

serve_config.yaml: `import_path: deployments.characters:build`, route prefix
/api/v2/characters."""

from deployments.characters.app import CharactersConfig, CharactersIngress, build

INGRESS = CharactersIngress
__all__ = ["INGRESS", "CharactersConfig", "build"]
