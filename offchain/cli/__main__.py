"""`python -m offchain.cli ...`: the same as the `tessera` console script."""

from offchain.cli.app import main

if __name__ == "__main__":
    main()
