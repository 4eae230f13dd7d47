"""Placement stage: decide what an intent leaves to vnuma (auto nodes, cells: N, pins)."""

from vnuma.place.nodes import CellNeed, NodeState, node_states, shortfall
from vnuma.place.stage import PlacementResult, place

__all__ = ["CellNeed", "NodeState", "PlacementResult", "node_states", "place", "shortfall"]
