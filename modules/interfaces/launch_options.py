"""LaunchOptions: every launch flag as one frozen, typed value (built by ``modules.interfaces.cli.parse``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_PORT = 7860
API_ONLY_PORT = 7861


@dataclass(frozen=True)
class LaunchOptions:
    """Every launch flag, typed; path flags left as None mean "the default folder under --data-dir"."""

    data_dir: Path
    # paths
    models_dir: Path | None = None
    ckpt_dir: Path | None = None
    ckpt: Path | None = None
    vae_dir: Path | None = None
    vae_path: Path | None = None
    lora_dir: Path | None = None
    embeddings_dir: Path | None = None
    hypernetwork_dir: Path | None = None
    esrgan_models_path: Path | None = None
    realesrgan_models_path: Path | None = None
    gfpgan_models_path: Path | None = None
    codeformer_models_path: Path | None = None
    ui_settings_file: Path | None = None
    ui_config_file: Path | None = None
    styles_file: tuple[str, ...] = ()
    config: Path | None = None
    # server, network, auth
    port: int | None = None
    listen: bool = False
    server_name: str | None = None
    api: bool = False
    nowebui: bool = False
    api_auth: str | None = None
    api_log: bool = False
    api_server_stop: bool = False
    gradio_auth: str | None = None
    gradio_auth_path: Path | None = None
    share: bool = False
    ngrok: str | None = None
    autolaunch: bool = False
    theme: str | None = None
    subpath: str | None = None
    timeout_keep_alive: int = 30
    cors_allow_origins: str | None = None
    cors_allow_origins_regex: str | None = None
    allowed_hosts: str | None = None
    max_body_size: int = 256
    tls_keyfile: Path | None = None
    tls_certfile: Path | None = None
    disable_tls_verify: bool = False
    gradio_allowed_path: tuple[Path, ...] = ()
    enable_insecure_extension_access: bool = False
    # precision, memory, devices
    use_cpu: tuple[str, ...] = ()
    device_id: int | None = None
    no_half: bool = False
    no_half_vae: bool = False
    precision: str = "autocast"
    upcast_sampling: bool = False
    xformers: bool = False
    force_enable_xformers: bool = False
    opt_sdp_attention: bool = False
    opt_sdp_no_mem_attention: bool = False
    opt_split_attention: bool = False
    opt_split_attention_v1: bool = False
    opt_split_attention_invokeai: bool = False
    opt_sub_quad_attention: bool = False
    disable_opt_split_attention: bool = False
    opt_channelslast: bool = False
    medvram: bool = False
    medvram_sdxl: bool = False
    lowvram: bool = False
    lowram: bool = False
    disable_nan_check: bool = False
    # behaviour, settings, safety
    no_hashing: bool = False
    skip_load_model_at_start: bool = False
    no_download_sd_model: bool = False
    hide_ui_dir_config: bool = False
    freeze_settings: bool = False
    freeze_settings_in_sections: str | None = None
    freeze_specific_settings: str | None = None
    no_prompt_history: bool = False
    filenames_max_length: int = 128
    unix_filenames_sanitization: bool = False
    use_textbox_seed: bool = False
    disable_all_extensions: bool = False
    disable_extra_extensions: bool = False
    loglevel: str | None = None
    disable_safe_unpickle: bool = False
    allow_code: bool = False
    # launcher (read by launch.py / webui.sh)
    exit: bool = False
    skip_install: bool = False
    skip_torch_cuda_test: bool = False
    skip_python_version_check: bool = False
    skip_prepare_environment: bool = False
    reinstall_torch: bool = False
    reinstall_xformers: bool = False
    skip_version_check: bool = False
    update_check: bool = False
    update_all_extensions: bool = False
    log_startup: bool = False
    dump_sysinfo: bool = False
    allow_root: bool = False
    # what was accepted but not used
    ignored_flags: tuple[str, ...] = ()
    unknown_args: tuple[str, ...] = ()

    @property
    def effective_port(self) -> int:
        """Return --port, else 7861 in API-only mode (--nowebui), else 7860."""
        if self.port is not None:
            return self.port
        return API_ONLY_PORT if self.nowebui else DEFAULT_PORT

    @property
    def non_local(self) -> bool:
        """Return True when the server may be reachable from other machines (A1111's definition)."""
        return self.listen or self.share or bool(self.ngrok) or bool(self.server_name)

    @property
    def bind_host(self) -> str:
        """Return the address to bind: --server-name if given, else 0.0.0.0 with --listen, else 127.0.0.1."""
        if self.server_name:
            return self.server_name
        return "0.0.0.0" if self.listen else "127.0.0.1"

    @property
    def force_cpu(self) -> bool:
        """Return True when --use-cpu asks for the Stable Diffusion model itself to run on the CPU."""
        return "all" in self.use_cpu or "sd" in self.use_cpu
