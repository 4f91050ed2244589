"""The campaigns application: campaigns, their members, records, sessions and awards, the
timeline, export/import and the live event stream.

serve_config.yaml: `import_path: deployments.campaigns:build`, route prefix
/api/v2/campaigns."""

from deployments.campaigns.app import CampaignsConfig, CampaignsIngress, build

INGRESS = CampaignsIngress
__all__ = ["INGRESS", "CampaignsConfig", "build"]
