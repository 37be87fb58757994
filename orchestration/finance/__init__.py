"""What finance touches: the serving copy of the marts, the payout ledger, explain, export and
what-if simulations (docs/finance.md)."""
