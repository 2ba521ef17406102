"""Speed measurements: each module runs one workload against its peers and prints a table."""
