"""Built-in features that ship as extensions, on the same hooks user extensions use."""
