"""The reference License API: the same contract as the remote service, on a real SQL ledger."""
