"""sikker.builder: demo data, snapshot writer and atomic publication."""
