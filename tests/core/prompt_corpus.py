"""Real-world style prompts with the plans A1111's prompt parser gives them (worked out by hand from its rules).

Each case: (prompt, steps, options for `plan_prompt`, expected parts as (weight, ((end_step, text), ...))).
"""
from __future__ import annotations

NEG = {"allow_and": False}


def _one(prompt: str, steps: int, text: str | None = None) -> tuple:
    """A case whose prompt has a single part that never changes."""
    return (prompt, steps, {}, ((1.0, ((steps, prompt if text is None else text),)),))


def _neg(prompt: str, steps: int = 20) -> tuple:
    """A negative prompt: one part, the whole text, never split on AND nor weighted."""
    return (prompt, steps, NEG, ((1.0, ((steps, prompt),)),))


_CITY = "a city street with a [car:horse:0.3] and [a tree:a lamp post:0.8][ at night::0.5][ in rain:0.3]"
_PONY = ("score_9, score_8_up, score_7_up, source_anime, rating_safe, 1girl, elf, silver hair, "
         "(very aesthetic:1.1), zPDXL2, [grainy, ::6]forest clearing")
_CINEMA = ("cinematic still of a samurai, [rain:heavy rain:0.4], [[muted colors]], film grain, "
           "<lora:cinematic:0.7> AND samurai silhouette:0.3")
_CINEMA_A = "cinematic still of a samurai, {}, [[muted colors]], film grain, <lora:cinematic:0.7>"

CORPUS: tuple[tuple, ...] = (
    # long comma lists, weights, LoRA tags and embeddings: nothing is scheduled, the text is kept as written
    _one("masterpiece, best quality, 1girl, solo, long hair, looking at viewer, smile, outdoors, cherry blossoms, "
         "(detailed eyes:1.2), <lora:add_detail:0.6>", 20),
    _one("photo of a woman, (freckles:0.8), natural lighting, 85mm, f/1.8, bokeh, RAW photo, 8k uhd, dslr, "
         "film grain, Fujifilm XT3", 30),
    _one("((masterpiece)), ((best quality)), (ultra-detailed), (illustration), (beautiful detailed eyes), 1girl, "
         "[smile], embedding:EasyNegative", 28),
    _one("score_9, score_8_up, score_7_up, source_anime, rating_safe, 1boy, armor, sword, dynamic pose", 25),
    _one("a photo of an astronaut riding a horse on mars", 50),
    _one("(masterpiece:1.2), (best quality:1.2), [[blurry]], <lora:epiNoiseoffset_v2:0.5>, "
         "<lora:detail_slider:1.5>, cyberpunk city at night, neon, rain", 20),
    _one("close-up portrait, detailed face BREAK red dress, lace BREAK garden background", 20),
    _one("portrait of a knight, [unbalanced bracket, (armor", 20),
    _one("masterpiece,\nbest quality,\n1girl, (white dress:1.1),\nsunflower field", 20),
    _one("(red hair : 1.3), (blue eyes:0.9), freckles, <lora:freckle_v2:0.4:unet=0.6>", 20),
    _one("ANDROID girl, chrome skin, salt and pepper hair, (glowing eyes:1.25)", 20),
    _one("isometric diorama of a tiny bakery, (pastel colors:1.1), soft shadows, octane render, trending on artstation",
         30),
    _one("landscape, mountains, lake, ((sunrise)), [[[fog]]], volumetric lighting, (ultra wide angle:0.9)", 20),
    _one("anime screencap, 1girl, (school uniform:1.1), \\(cosplay\\), holding umbrella, rain, puddles", 24),
    _one("<lora:pixel_art_xl:1> pixel art, knight, castle, 16-bit, (limited palette:1.2), <lyco:retro:0.3>", 20),
    _one("a [b:c:d:3] stays literal", 10),
    _one("a woman, [<lora:style_a:0.8>:<lora:style_b:0.8>:0.5]", 20),
    _one("[a|b|c:3] mixes both forms and stays literal", 6),
    _one("cozy cabin, snow, warm light  ", 20, "cozy cabin, snow, warm light"),  # a part loses trailing spaces
    _one("   ", 20, ""),
    _one("", 20),
    _one("golden hour, (lens flare:0.7)", 20),
    # prompt editing
    ("a portrait of [Emma Watson:Scarlett Johansson:0.5], digital painting, artstation", 20, {},
     ((1.0, ((10, "a portrait of Emma Watson, digital painting, artstation"),
             (20, "a portrait of Scarlett Johansson, digital painting, artstation"))),)),
    (_CITY, 10, {}, ((1.0, (
        (3, "a city street with a car and a tree at night"),
        (5, "a city street with a horse and a tree at night in rain"),
        (8, "a city street with a horse and a tree in rain"),
        (10, "a city street with a horse and a lamp post in rain"))),)),
    ("[photo of a woman:oil painting of a woman:12], impasto", 30, {},
     ((1.0, ((12, "photo of a woman, impasto"), (30, "oil painting of a woman, impasto"))),)),
    ("a castle[ with a moat::8]", 20, {}, ((1.0, ((8, "a castle with a moat"), (20, "a castle"))),)),
    ("a forest[, fireflies:10]", 20, {}, ((1.0, ((10, "a forest"), (20, "a forest, fireflies"))),)),
    ("a [dragon:[wyvern:griffin:15]:5] over the sea", 20, {},
     ((1.0, ((5, "a dragon over the sea"), (15, "a wyvern over the sea"), (20, "a griffin over the sea"))),)),
    ("(a [red:blue:0.5] ball:1.3)", 10, {}, ((1.0, ((5, "(a red ball:1.3)"), (10, "(a blue ball:1.3)"))),)),
    ("portrait [smiling: 4], studio light", 8, {},
     ((1.0, ((4, "portrait , studio light"), (8, "portrait smiling, studio light"))),)),
    ("((sky][:sun:moon [stars:4]", 8, {}, ((1.0, ((4, "((sky][:sun:moon "), (8, "((sky][:sun:moon stars"))),)),
    ("\\(parenthesis\\) are literal, [sunset:dawn:0.5]", 10, {},
     ((1.0, ((5, "\\(parenthesis\\) are literal, sunset"), (10, "\\(parenthesis\\) are literal, dawn"))),)),
    ("a photo of [day:night:0], city", 20, {}, ((1.0, ((20, "a photo of night, city"),)),)),
    ("[young:old:-1] man", 20, {}, ((1.0, ((20, "old man"),)),)),
    ("[sketch:painting:100]", 20, {}, ((1.0, ((20, "sketch"),)),)),
    ("[sketch:painting:1.0]", 20, {}, ((1.0, ((20, "sketch"),)),)),
    ("[sketch:painting:0.99]", 20, {}, ((1.0, ((19, "sketch"), (20, "painting"))),)),
    ("[cat:dog:3.5]", 10, {}, ((1.0, ((10, "cat"),)),)),
    ("[cat:dog:1e1]", 20, {}, ((1.0, ((10, "cat"), (20, "dog"))),)),
    ("[cat:dog:+3 ]", 6, {}, ((1.0, ((3, "cat"), (6, "dog"))),)),
    (_PONY, 20, {}, ((1.0, ((6, _PONY.replace("[grainy, ::6]", "grainy, ")),
                            (20, _PONY.replace("[grainy, ::6]", "")))),)),
    # alternation
    ("1girl, solo, [blonde|black] hair, school uniform", 4, {}, ((1.0, (
        (1, "1girl, solo, blonde hair, school uniform"), (2, "1girl, solo, black hair, school uniform"),
        (3, "1girl, solo, blonde hair, school uniform"), (4, "1girl, solo, black hair, school uniform"))),)),
    ("[cat|dog|fox] in the snow", 5, {}, ((1.0, (
        (1, "cat in the snow"), (2, "dog in the snow"), (3, "fox in the snow"), (4, "cat in the snow"),
        (5, "dog in the snow"))),)),
    ("a [fe|]male knight", 3, {}, ((1.0, ((1, "a female knight"), (2, "a male knight"), (3, "a female knight"))),)),
    ("[|red] rose", 2, {}, ((1.0, ((1, " rose"), (2, "red rose"))),)),
    ("[(cat:1.2)|dog] on a sofa", 2, {}, ((1.0, ((1, "(cat:1.2) on a sofa"), (2, "dog on a sofa"))),)),
    ("[[red|blue]:green:3] car", 4, {}, ((1.0, ((1, "red car"), (2, "blue car"), (3, "red car"),
                                               (4, "green car"))),)),
    ("((a [cat|dog]))", 2, {}, ((1.0, ((1, "((a cat))"), (2, "((a dog))"))),)),
    ("[a|b]", 1, {}, ((1.0, ((1, "a"),)),)),
    # AND (composable diffusion)
    ("a cat AND a dog", 20, {}, ((1.0, ((20, "a cat"),)), (1.0, ((20, " a dog"),)))),
    ("a red barn :1.2 AND snowy field:0.8 AND (northern lights:1.3):0.5", 20, {},
     ((1.2, ((20, "a red barn"),)), (0.8, ((20, " snowy field"),)), (0.5, ((20, " (northern lights:1.3)"),)))),
    ("a [cat:dog:0.5] AND a forest:0.6", 10, {},
     ((1.0, ((5, "a cat"), (10, "a dog"))), (0.6, ((10, " a forest"),)))),
    (_CINEMA, 25, {}, ((1.0, ((10, _CINEMA_A.format("rain")), (25, _CINEMA_A.format("heavy rain")))),
                       (0.3, ((25, " samurai silhouette"),)))),
    ("cat AND", 20, {}, ((1.0, ((20, "cat"),)), (1.0, ((20, ""),)))),
    ("lighthouse:1.5", 20, {}, ((1.5, ((20, "lighthouse"),)),)),
    ("a [wolf AND fox:3]", 10, {}, ((1.0, ((10, "a [wolf"),)), (1.0, ((10, " fox:3]"),)))),
    # hires pass timeline and the old-scheduling setting
    ("a house [in winter:in summer:1.5]", 10, {"hires_steps": 10},
     ((1.0, ((5, "a house in winter"), (10, "a house in summer"))),)),
    ("a house [at dawn:at dusk:15]", 10, {"hires_steps": 20},
     ((1.0, ((5, "a house at dawn"), (20, "a house at dusk"))),)),
    ("[pencil:ink:0.5] drawing", 10, {"hires_steps": 10}, ((1.0, ((10, "ink drawing"),)),)),
    ("[pencil:ink:0.5] drawing", 10, {"use_old_scheduling": True},
     ((1.0, ((5, "pencil drawing"), (10, "ink drawing"))),)),
    ("[pencil:ink:2.0] drawing", 10, {"use_old_scheduling": True},
     ((1.0, ((2, "pencil drawing"), (10, "ink drawing"))),)),
    ("[pencil:ink:2.0] drawing", 10, {}, ((1.0, ((10, "pencil drawing"),)),)),
    # negative prompts: no AND split, no weight, trailing spaces kept
    _neg("lowres, bad anatomy AND text:1.5"),
    _neg("(worst quality, low quality:1.4), (deformed, distorted, disfigured:1.3), poorly drawn, bad anatomy, "
         "wrong anatomy, extra limb, missing limb, floating limbs, (mutated hands and fingers:1.4), disconnected "
         "limbs, mutation, mutated, ugly, disgusting, blurry, amputation, EasyNegative, ng_deepnegative_v1_75t "),
    ("blurry, [jpeg artifacts::10]", 20, NEG, ((1.0, ((10, "blurry, jpeg artifacts"), (20, "blurry, "))),)),
)
