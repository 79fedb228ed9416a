"""Built-in scripts (A1111's "Script" dropdown): X/Y/Z plot, Prompt matrix, Prompts from file or textbox and the
two outpainting scripts. A script run is one queued job that calls the generation service once per cell.

Interfaces use `registry` only: `list_scripts`, `find_script`, `script_info`, `args_from_api`, `run_script`.
"""
