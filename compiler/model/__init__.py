"""Model stage: typed, validated dataclasses for the host and the guest intent."""
