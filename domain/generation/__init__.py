"""Campaign-aware generation: what goes into a prompt (context, style), what may come out
(validation), and the record of every output (versions). Pure: the LLM is called by the
generation application through its typed calls."""
