"""HTTP resources of the v1 API."""
