"""`python -m fedcrate` is the `fedcrate` command."""

from fedcrate.cli import main

main()
