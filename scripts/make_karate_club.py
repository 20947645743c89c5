"""Writes Zachary's karate club (datasets/karate-club/{nodes,edges}.csv) from networkx's copy of the data.

W. W. Zachary, "An information flow model for conflict and fission in small groups", J. Anthropol. Res. 33 (1977).
34 members, 78 friendships; after the split each member joined Mr. Hi's club or the Officer's. Run:
    python3 scripts/make_karate_club.py
"""
import csv
import os

import networkx

graph = networkx.karate_club_graph()
out = os.path.join(os.path.dirname(__file__), "..", "datasets", "karate-club")
os.makedirs(out, exist_ok=True)

with open(os.path.join(out, "nodes.csv"), "w", newline="") as f:
    writer = csv.writer(f, lineterminator="\n")
    writer.writerow(["id", "label"])
    for node in sorted(graph.nodes):
        writer.writerow([node, graph.nodes[node]["club"]])

with open(os.path.join(out, "edges.csv"), "w", newline="") as f:
    writer = csv.writer(f, lineterminator="\n")
    writer.writerow(["source", "target"])
    for a, b in sorted(tuple(sorted(e)) for e in graph.edges):
        writer.writerow([a, b])

print(f"{graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges -> {os.path.normpath(out)}")
