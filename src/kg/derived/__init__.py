"""Facts derived from the stored history: co-change coupling, ownership, churn, symbol
history, the graph as of a commit, and links between discussions, commits and code."""
