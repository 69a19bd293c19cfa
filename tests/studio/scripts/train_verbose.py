"""Prints 6,000 numbered lines (about 400 KB of log): more than one page of the log viewer."""

for line in range(6000):
    print(f"line {line:05d} " + "x" * 60)
