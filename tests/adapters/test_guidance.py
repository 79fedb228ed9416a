"""The guided model function on tiny real UNets: CFG by hand, AND weights, per-step conditioning, batching."""
from __future__ import annotations

import contextlib

import pytest
import torch
from diffusers import EulerDiscreteScheduler

from modules.adapters.conditioning import ConditioningSchedule, EncodeOptions, ImagePlan, PromptPart
from modules.adapters.guidance import GuidanceOptions, GuidedModel, sdxl_time_ids, size_conditions
from modules.adapters.prompt_embeds import prompt_encoder_for
from modules.core.model_family import ModelFamily
from tests.support.tiny_pipelines import load_tiny

ATOL = 1e-4  # batched UNet rows differ from single ones in the last bits; CFG scales that up


def frags(text: str) -> tuple[tuple[str, float], ...]:
    """A prompt without emphasis, as the parser returns it."""
    return ((text, 1.0),)


def plan(*parts: tuple[str, float], negative: str = "ugly") -> ImagePlan:
    """One image's plan from (text, AND weight) parts."""
    return ImagePlan(tuple(PromptPart(frags(text), weight) for text, weight in parts), frags(negative))


class CountingEncoder:
    """Wraps a PromptEncoder and records every text it encodes."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def encode(self, fragments, **options):
        self.calls.append(("+", tuple(fragments)))
        return self.inner.encode(fragments, **options)

    def encode_negative(self, fragments, **options):
        self.calls.append(("-", tuple(fragments)))
        return self.inner.encode_negative(fragments, **options)


@pytest.fixture(scope="module")
def loaded(tiny_cache):
    """``loaded(family)`` -> (pipe, encoder), each family loaded once per module."""
    cache = {}

    def get(family: str):
        if family not in cache:
            checkpoint = load_tiny(family, tiny_cache)
            cache[family] = (checkpoint.handle.pipe, prompt_encoder_for(checkpoint.handle.pipe, checkpoint.family))
        return cache[family]
    return get


def latents(batch: int = 1, channels: int = 4, seed: int = 0) -> torch.Tensor:
    """Latents of a 128x128 image (at 8x8 a single-row UNet call meets a 1x1 group norm, which torch refuses)."""
    return torch.randn(batch, channels, 16, 16, generator=torch.Generator().manual_seed(seed))


def unet_out(unet, x, t, embeds, **added) -> torch.Tensor:
    with torch.no_grad():
        return unet(x, t, encoder_hidden_states=embeds, added_cond_kwargs=added or None).sample


@contextlib.contextmanager
def unet_batches(unet):
    """Record the batch size of every UNet call made inside the block."""
    calls = []
    handle = unet.register_forward_hook(lambda module, args, output: calls.append(args[0].shape[0]))
    try:
        yield calls
    finally:
        handle.remove()


def test_one_part_is_plain_cfg(loaded):
    pipe, encoder = loaded("sd15")
    model = GuidedModel(pipe.unet, ConditioningSchedule(encoder, lambda step: [plan(("a cat", 1.0))]),
                        GuidanceOptions(cfg_scale=7.0))
    x, t = latents(), torch.tensor(500.0)
    out = model(x, t, 0)
    cond = unet_out(pipe.unet, x, t, encoder.encode(frags("a cat")).embeds)
    uncond = unet_out(pipe.unet, x, t, encoder.encode(frags("ugly")).embeds)
    assert torch.allclose(out.guided, uncond + 7.0 * (cond - uncond), atol=ATOL)
    assert torch.allclose(out.uncond, uncond, atol=ATOL)
    at_one = GuidedModel(pipe.unet, ConditioningSchedule(encoder, lambda step: [plan(("a cat", 1.0))]),
                         GuidanceOptions(cfg_scale=1.0))(x, t, 0)
    # CFG 1 still evaluates uncond (as A1111 does); one part of weight 1 then gives the cond output
    assert torch.allclose(at_one.guided, cond, atol=ATOL) and at_one.uncond is not None


def test_sdxl_added_conditions_and_zero_empty_negative(loaded):
    pipe, encoder = loaded("sdxl")
    time_ids = sdxl_time_ids(64, 48)
    theirs = pipe._get_add_time_ids((48, 64), (0, 0), (48, 64), torch.float32,
                                    text_encoder_projection_dim=pipe.text_encoder_2.config.projection_dim)
    assert torch.equal(torch.tensor([time_ids]), theirs)
    model = GuidedModel(pipe.unet, ConditioningSchedule(encoder, lambda s: [plan(("a cat", 1.0), negative="")]),
                        GuidanceOptions(cfg_scale=5.0, time_ids=time_ids))
    x, t = latents(), torch.tensor(700.0)
    out = model(x, t, 0)
    cond = encoder.encode(frags("a cat"))
    c = unet_out(pipe.unet, x, t, cond.embeds, text_embeds=cond.pooled, time_ids=theirs)
    u = unet_out(pipe.unet, x, t, torch.zeros_like(cond.embeds), text_embeds=torch.zeros_like(cond.pooled),
                 time_ids=theirs)
    assert torch.allclose(out.guided, u + 5.0 * (c - u), atol=ATOL)
    with pytest.raises(ValueError, match="time_ids"):
        GuidedModel(pipe.unet, ConditioningSchedule(encoder, lambda s: []), GuidanceOptions(cfg_scale=5.0))


def test_refiner_gets_aesthetic_scores(loaded):
    pipe, encoder = loaded("sdxl-refiner")
    cond_ids, uncond_ids = size_conditions(ModelFamily.SDXL_REFINER, 64, 48, crops=(8, 0))
    theirs, theirs_negative = pipe._get_add_time_ids((48, 64), (8, 0), (48, 64), 6.0, 2.5, (48, 64), (8, 0),
                                                     (48, 64), torch.float32, text_encoder_projection_dim=128)
    assert torch.equal(torch.tensor([cond_ids]), theirs) and torch.equal(torch.tensor([uncond_ids]), theirs_negative)
    assert size_conditions(ModelFamily.SDXL, 64, 48) == (sdxl_time_ids(64, 48),) * 2
    assert size_conditions(ModelFamily.SD1, 64, 48) == (None, None)
    model = GuidedModel(pipe.unet, ConditioningSchedule(encoder, lambda s: [plan(("a cat", 1.0))]),
                        GuidanceOptions(cfg_scale=5.0, time_ids=cond_ids, uncond_time_ids=uncond_ids))
    x, t = latents(), torch.tensor(200.0)
    cond, ugly = encoder.encode(frags("a cat")), encoder.encode(frags("ugly"))
    c = unet_out(pipe.unet, x, t, cond.embeds, text_embeds=cond.pooled, time_ids=theirs)
    u = unet_out(pipe.unet, x, t, ugly.embeds, text_embeds=ugly.pooled, time_ids=theirs_negative)
    assert torch.allclose(model(x, t, 0).guided, u + 5.0 * (c - u), atol=ATOL)


def test_and_parts_are_weighted(loaded):
    pipe, encoder = loaded("sd15")
    x, t = latents(), torch.tensor(300.0)

    def guided(*parts):
        schedule = ConditioningSchedule(encoder, lambda step: [plan(*parts)])
        return GuidedModel(pipe.unet, schedule, GuidanceOptions(cfg_scale=6.0))(x, t, 0).guided
    both = guided(("a cat", 1.0), ("a dog", 0.5))
    assert not torch.allclose(both, guided(("a cat", 1.0)), atol=ATOL)
    assert not torch.allclose(both, guided(("a dog", 0.5)), atol=ATOL)
    cat, dog, ugly = (unet_out(pipe.unet, x, t, encoder.encode(frags(text)).embeds)
                      for text in ("a cat", "a dog", "ugly"))
    assert torch.allclose(both, ugly + 6.0 * (1.0 * (cat - ugly) + 0.5 * (dog - ugly)), atol=ATOL)


def test_conditioning_switches_at_the_step_and_each_text_is_encoded_once(loaded):
    pipe, encoder = loaded("sd15")
    counting = CountingEncoder(encoder)
    schedule = ConditioningSchedule(counting, lambda step: [plan(("a cat" if step < 3 else "a dog", 1.0))],
                                    EncodeOptions(clip_skip=2))
    model = GuidedModel(pipe.unet, schedule, GuidanceOptions(cfg_scale=7.0))
    x, t = latents(), torch.tensor(400.0)
    outs = [model(x, t, step).guided for step in range(6)]
    assert all(torch.equal(outs[0], out) for out in outs[1:3])
    assert all(torch.equal(outs[3], out) for out in outs[4:]) and not torch.allclose(outs[2], outs[3])
    assert sorted(counting.calls) == [("+", frags("a cat")), ("+", frags("a dog")), ("-", frags("ugly"))]
    expected = encoder.encode(frags("a dog"), clip_skip=2).embeds
    assert torch.equal(schedule.at(5).conds[0][0][0].embeds, expected)  # the options reach the encoder


def test_cond_and_uncond_of_different_lengths(loaded):
    pipe, encoder = loaded("sd15")
    long_text = " ".join(["cat"] * 100)  # two chunks against a one-chunk negative
    x, t = latents(), torch.tensor(600.0)
    cond = unet_out(pipe.unet, x, t, encoder.encode(frags(long_text)).embeds)
    ugly = encoder.encode(frags("ugly")).embeds
    separate = GuidedModel(pipe.unet, ConditioningSchedule(encoder, lambda s: [plan((long_text, 1.0))]),
                           GuidanceOptions(cfg_scale=7.0))
    with unet_batches(pipe.unet) as calls:
        out = separate(x, t, 0)
    assert calls == [1, 1], "A1111 runs different lengths as separate batches"
    uncond = unet_out(pipe.unet, x, t, ugly)
    assert torch.allclose(out.guided, uncond + 7.0 * (cond - uncond), atol=ATOL)
    padded = GuidedModel(pipe.unet, ConditioningSchedule(encoder, lambda s: [plan((long_text, 1.0))]),
                         GuidanceOptions(cfg_scale=7.0, pad_cond_uncond=True))
    with unet_batches(pipe.unet) as calls:
        out = padded(x, t, 0)
    assert calls == [2], "pad_cond_uncond: one batch"
    empty = encoder.encode(frags("")).embeds
    uncond_padded = unet_out(pipe.unet, x, t, torch.cat([ugly, empty], dim=1))
    assert torch.allclose(out.guided, uncond_padded + 7.0 * (cond - uncond_padded), atol=ATOL)


def test_batch_rows_match_single_images(loaded):
    pipe, encoder = loaded("sd15")
    plans = [plan(("a cat", 1.0), ("a dog", 0.7)), plan(("a tree", 1.0), negative="blurry")]
    x, t = latents(2, seed=3), torch.tensor([250.0, 650.0])
    with unet_batches(pipe.unet) as calls:
        batched = GuidedModel(pipe.unet, ConditioningSchedule(encoder, lambda s: plans),
                              GuidanceOptions(cfg_scale=4.0))(x, t, 0)
    assert calls == [5]  # three cond rows (two AND parts + one) and both unconds in one batch
    for image in range(2):
        single = GuidedModel(pipe.unet, ConditioningSchedule(encoder, lambda s, i=image: [plans[i]]),
                             GuidanceOptions(cfg_scale=4.0))(x[image:image + 1], t[image:image + 1], 0)
        assert torch.allclose(batched.guided[image], single.guided[0], atol=ATOL)
        assert torch.allclose(batched.uncond[image], single.uncond[0], atol=ATOL)
    with pytest.raises(ValueError, match="batch of 3"):
        GuidedModel(pipe.unet, ConditioningSchedule(encoder, lambda s: plans),
                    GuidanceOptions(cfg_scale=4.0))(latents(3), t[:1], 0)


def test_shorter_conds_in_a_batch_repeat_their_last_vector(loaded):
    pipe, encoder = loaded("sd15")
    long_text = " ".join(["tree"] * 90)
    plans = [plan(("a cat", 1.0)), plan((long_text, 1.0), negative="blurry")]
    x, t = latents(2, seed=5), torch.tensor(450.0)
    with unet_batches(pipe.unet) as calls:
        out = GuidedModel(pipe.unet, ConditioningSchedule(encoder, lambda s: plans),
                          GuidanceOptions(cfg_scale=4.0))(x, t, 0)
    assert calls == [2, 2]  # conds (154 tokens) and unconds (77) run as separate batches
    cat = encoder.encode(frags("a cat")).embeds
    padded = torch.cat([cat, cat[:, -1:].repeat(1, 77, 1)], dim=1)  # A1111 stack_conds
    cond = unet_out(pipe.unet, x[:1], t, padded)
    uncond = unet_out(pipe.unet, x[:1], t, encoder.encode(frags("ugly")).embeds)
    assert torch.allclose(out.guided[0], (uncond + 4.0 * (cond - uncond))[0], atol=ATOL)


def test_unbatched_cond_uncond_gives_the_same_result(loaded):
    pipe, encoder = loaded("sd15")
    x, t = latents(), torch.tensor(100.0)
    results = []
    for batch in (True, False):
        model = GuidedModel(pipe.unet, ConditioningSchedule(encoder, lambda s: [plan(("a cat", 1.0))]),
                            GuidanceOptions(cfg_scale=7.0, batch_cond_uncond=batch))
        with unet_batches(pipe.unet) as calls:
            results.append(model(x, t, 0).guided)
        assert calls == ([2] if batch else [1, 1])
    assert torch.allclose(results[0], results[1], atol=ATOL)


def test_inpainting_unet_gets_the_image_conditioning(loaded):
    pipe, encoder = loaded("sd15-inpaint")
    x, t, image_cond = latents(), torch.tensor(500.0), latents(channels=5, seed=9)
    model = GuidedModel(pipe.unet, ConditioningSchedule(encoder, lambda s: [plan(("a cat", 1.0))]),
                        GuidanceOptions(cfg_scale=3.0), image_cond=image_cond)
    out = model(x, t, 0)
    full = torch.cat([x, image_cond], dim=1)
    cond = unet_out(pipe.unet, full, t, encoder.encode(frags("a cat")).embeds)
    uncond = unet_out(pipe.unet, full, t, encoder.encode(frags("ugly")).embeds)
    assert out.guided.shape == x.shape and torch.allclose(out.guided, uncond + 3.0 * (cond - uncond), atol=ATOL)


@pytest.mark.parametrize("family", ["sd15", "sdxl"])
def test_a_loop_over_the_guided_model_reproduces_the_diffusers_pipeline(loaded, family):
    pipe, encoder = loaded(family)
    config = pipe.scheduler.config
    pipe.scheduler = EulerDiscreteScheduler.from_config(config)
    noise = latents(seed=11)
    # A1111 zeroes SDXL's empty negative; diffusers does so for a missing one
    negative = None if family == "sdxl" else ""
    expected = pipe(prompt="a red cat", negative_prompt=negative, num_inference_steps=3, guidance_scale=7.0,
                    width=128, height=128, latents=noise.clone(), output_type="latent").images
    time_ids = sdxl_time_ids(128, 128) if family == "sdxl" else None
    model = GuidedModel(pipe.unet, ConditioningSchedule(encoder, lambda s: [plan(("a red cat", 1.0), negative="")]),
                        GuidanceOptions(cfg_scale=7.0, time_ids=time_ids))
    scheduler = EulerDiscreteScheduler.from_config(config)
    scheduler.set_timesteps(3)
    sample = noise * scheduler.init_noise_sigma
    for step, t in enumerate(scheduler.timesteps):
        guided = model(scheduler.scale_model_input(sample, t), t, step).guided
        sample = scheduler.step(guided, t, sample).prev_sample
    assert torch.allclose(sample, expected, atol=1e-4)
