"""Reference models for the ``export`` workload, built from seeds in the repository (nothing downloaded).

``gpt`` (a GPT-2-style decoder doing greedy generation, with a character tokenizer), ``cnn`` (an image
classifier), ``lora`` (one LoRA fine-tuning step: forward, backward and SGD update as one graph) and
``reference`` (each exported to ``.pt2`` bytes with its seeded inputs and job spec). Every module imports
torch inside its functions only, so importing this package stays cheap.
"""
