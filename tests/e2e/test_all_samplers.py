"""Every A1111 sampler x schedule type through the real backend on tiny SD1 and SDXL checkpoints."""
from __future__ import annotations

import numpy as np
import pytest

from modules import bootstrap
from modules.core.errors import SamplerNotFound
from modules.core.params import Txt2ImgRequest
from modules.core.samplers import SAMPLERS, SCHEDULES, effective_schedule, resolve_sampler
from modules.interfaces import cli
from tests.conftest import REPO, install_checkpoint

# Model evaluations at 4 steps with the Automatic schedule (second-order samplers end with one Euler step;
# PLMS's first step is a pseudo improved-Euler step). DPM adaptive chooses its own.
EVALUATIONS_AT_4 = {
    "DPM++ SDE": 7, "DPM++ 2S a": 7, "Heun": 7, "DPM2": 7, "DPM2 a": 7, "Restart": 7, "PLMS": 5,
    "DPM adaptive": None,
}


@pytest.fixture(scope="module")
def contexts(tiny_checkpoint, tmp_path_factory):
    """One context per family (loaded once for the module) and a UNet call counter for each."""
    made = {}
    for family in ("sd15", "sdxl"):
        data = tmp_path_factory.mktemp(f"samplers-{family}")
        install_checkpoint(tiny_checkpoint(family), data / "models" / "Stable-diffusion")
        options = cli.parse(["--data-dir", str(data), "--use-cpu", "all", "--precision", "full"], {},
                            install_dir=REPO)
        ctx = bootstrap.create_context(options)
        ctx.models.ensure(None)
        calls = [0]
        ctx.models.loaded.handle.pipe.unet.register_forward_hook(lambda *_, c=calls: c.__setitem__(0, c[0] + 1))
        made[family] = (ctx, calls)
    return made


def _generate(ctx, **overrides):
    base = dict(prompt="a red circle", negative_prompt="blurry", steps=4, cfg_scale=7, width=64, height=64,
                seed=1234, save_images=False)
    base.update(overrides)
    return ctx.generation.txt2img(Txt2ImgRequest(**base))


def _check(result, sampler_name: str, schedule: str) -> None:
    pixels = np.asarray(result.images[0].image)
    assert pixels.std() > 0, f"{sampler_name}/{schedule} produced a flat image"
    sampler, chosen = resolve_sampler(sampler_name, schedule)
    label = effective_schedule(sampler, chosen).label
    assert f"Steps: 4, Sampler: {sampler_name}, Schedule type: {label}, CFG scale: 7," in result.images[0].infotext


# Karras is a separate run only for samplers whose Automatic is not already Karras (DPM fast/adaptive use only
# the sigma range, so Karras changes nothing for them either).
KARRAS_DIFFERS = [s.name for s in SAMPLERS
                  if s.default_schedule != "karras" and s.name not in ("DPM fast", "DPM adaptive")]
SD1_CASES = [(s.name, "Automatic") for s in SAMPLERS] + [(name, "Karras") for name in KARRAS_DIFFERS]


@pytest.mark.parametrize("sampler,schedule", SD1_CASES)
def test_every_sampler_on_sd1(sampler, schedule, contexts):
    ctx, calls = contexts["sd15"]
    calls[0] = 0
    _check(_generate(ctx, sampler_name=sampler, scheduler=schedule), sampler, schedule)
    expected = EVALUATIONS_AT_4.get(sampler, 4)
    if schedule == "Automatic" and expected is not None:
        assert calls[0] == expected, f"{sampler}: {calls[0]} model evaluations"


# SDXL runs the same cases: every sampler with Automatic and (where it differs) Karras.
SDXL_CASES = SD1_CASES


@pytest.mark.parametrize("sampler,schedule", SDXL_CASES)
def test_every_sampler_on_sdxl(sampler, schedule, contexts):
    ctx, _ = contexts["sdxl"]
    _check(_generate(ctx, sampler_name=sampler, scheduler=schedule), sampler, schedule)


@pytest.mark.parametrize("schedule", [s.label for s in SCHEDULES if s.name not in ("automatic", "karras")])
def test_every_schedule_type_with_a_diffusers_and_an_own_sampler(schedule, contexts):
    ctx, _ = contexts["sd15"]
    for sampler in ("Euler", "DPM++ 3M SDE"):
        _check(_generate(ctx, sampler_name=sampler, scheduler=schedule), sampler, schedule)


def test_unipc_without_a_matching_schedule_is_a_clear_error(contexts):
    ctx, _ = contexts["sd15"]
    with pytest.raises(SamplerNotFound, match="Schedule type KL Optimal is not available for sampler UniPC"):
        _generate(ctx, sampler_name="UniPC", scheduler="KL Optimal")


@pytest.mark.parametrize("sampler,schedule", [("Euler a", "Karras"), ("DPM++ 2M SDE", "Polyexponential"),
                                              ("Euler a", "Automatic")])
def test_batch_image_equals_its_seed_alone(sampler, schedule, contexts):
    ctx, _ = contexts["sd15"]
    batch = _generate(ctx, sampler_name=sampler, scheduler=schedule, batch_size=2, seed=50)
    for index, seed in enumerate((50, 51)):
        single = _generate(ctx, sampler_name=sampler, scheduler=schedule, seed=seed)
        diff = np.abs(np.asarray(batch.images[index].image, dtype=int)
                      - np.asarray(single.images[0].image, dtype=int)).max()
        assert diff <= 2, f"{sampler}: image {index} differs from seed {seed} alone by {diff}"


def test_ensd_changes_ancestral_noise_only_and_is_recorded(contexts):
    ctx, _ = contexts["sd15"]
    ensd = {"eta_noise_seed_delta": 31337}
    plain, with_ensd = _generate(ctx, sampler_name="Euler a"), _generate(ctx, sampler_name="Euler a",
                                                                          override_settings=ensd)
    assert not np.array_equal(np.asarray(plain.images[0].image), np.asarray(with_ensd.images[0].image))
    assert "ENSD: 31337" in with_ensd.images[0].infotext and "ENSD" not in plain.images[0].infotext
    euler, euler_ensd = _generate(ctx, sampler_name="Euler"), _generate(ctx, sampler_name="Euler",
                                                                         override_settings=ensd)
    assert np.array_equal(np.asarray(euler.images[0].image), np.asarray(euler_ensd.images[0].image))
    assert "ENSD" not in euler_ensd.images[0].infotext
    no_eta = _generate(ctx, sampler_name="Euler a", override_settings={**ensd, "eta_ancestral": 0.0})
    assert "ENSD" not in no_eta.images[0].infotext and "Eta: 0.0" in no_eta.images[0].infotext


def test_sampler_settings_change_output_and_infotext(contexts):
    ctx, _ = contexts["sd15"]
    base = _generate(ctx, sampler_name="Heun")
    churned = _generate(ctx, sampler_name="Heun", override_settings={"s_churn": 2.0, "s_noise": 0.9})
    assert not np.array_equal(np.asarray(base.images[0].image), np.asarray(churned.images[0].image))
    line = churned.images[0].infotext.splitlines()[-1]
    assert "Sigma churn: 2.0, Sigma noise: 0.9" in line and "Sigma churn" not in base.images[0].infotext
    ranged = _generate(ctx, sampler_name="DPM++ 2M", override_settings={"sigma_max": 5.0, "rho": 5.0})
    assert "Schedule max sigma: 5.0, Schedule rho: 5.0" in ranged.images[0].infotext
    ddim = _generate(ctx, sampler_name="DDIM", override_settings={"eta_ddim": 0.5})
    assert "Eta DDIM: 0.5" in ddim.images[0].infotext
    sgm = _generate(ctx, sampler_name="Euler", override_settings={"sgm_noise_multiplier": True,
                                                                 "always_discard_next_to_last_sigma": True})
    assert "Discard penultimate sigma: True, SGM noise multiplier: True" in sgm.images[0].infotext


def test_own_samplers_handle_v_prediction(tiny_checkpoint, make_context, data_dir):
    install_checkpoint(tiny_checkpoint("sd2-v"), data_dir / "models" / "Stable-diffusion")
    ctx = make_context()
    for sampler in ("DPM++ 2S a", "DDIM CFG++"):
        _check(_generate(ctx, sampler_name=sampler, scheduler="Karras"), sampler, "Karras")


def test_unipc_order_setting(contexts):
    ctx, _ = contexts["sd15"]
    third = _generate(ctx, sampler_name="UniPC", steps=5)
    first = _generate(ctx, sampler_name="UniPC", steps=5, override_settings={"uni_pc_order": 1})
    assert not np.array_equal(np.asarray(third.images[0].image), np.asarray(first.images[0].image))
