"""Model stage: typed, validated records for the host, the guest intent and the resolved guest."""
