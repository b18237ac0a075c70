"""sikker.server: the Falcon app that serves snapshots."""
