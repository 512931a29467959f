"""Short chat messages per category and language, each positive beside a hard negative.

Each row names what it guards against; a bypass that once got through becomes a row here.
"""

import logging

import pytest

from moderation.pipeline import Pipeline
from moderation.screeners.base import LexiconScreener
from moderation.verdict import Action, Flag, Span, merge

# (text, locale, expected family or None, why the row exists)
ROWS = [
    # crisis.self, explicit statements always count
    ("I want to die", "en", "crisis.self", "plain statement"),
    ("lol idk I just want to die", "en", "crisis.self", "explicit statement inside casual chat"),
    ("i dont want to live anymore", "en", "crisis.self", "no apostrophe"),
    ("k1ll mys3lf tonight", "en", "crisis.self", "leetspeak bypass"),
    ("s u i c i d a l thoughts again", "en", "crisis.self", "spaced-out letters bypass"),
    ("thinking about unaliving myself", "en", "crisis.self", "algospeak"),
    ("kms honestly", "en", "crisis.self", "algospeak abbreviation"),
    ("no quiero seguir viviendo", "es-MX", "crisis.self", "Spanish statement"),
    ("je vais me tuer ce soir", "fr", "crisis.self", "French statement"),
    ("ich möchte einfach nur sterben", "de", "crisis.self", "German statement"),
    ("quero me matar", "pt", "crisis.self", "Portuguese statement"),
    ("kіll myself", "en", "crisis.self", "Cyrillic i homoglyph bypass"),
    ("kill\u200bmyself", "en", "crisis.self", "zero-width between words"),
    ("i want to ki\u200bll my\u200bself", "en", "crisis.self", "zero-width inside and between words"),
    ("this migraine is killing\u200bme", "en", None, "zero-width inside an idiom"),
    ("I have the pills ready, nobody would miss me", "en", "crisis.self", "a plan and feeling a burden, no death word"),
    ("nadie me va a extrañar", "es", "crisis.self", "Spanish burden statement"),
    ("niemand würde mich vermissen", "de", "crisis.self", "German burden statement"),
    ("ninguém vai sentir minha falta", "pt", "crisis.self", "Portuguese burden statement"),
    ("I'd miss you so much if you left the group", "en", None, "missing someone, said kindly"),
    ("the pills are ready at the pharmacy, finally", "en", None, "a prescription ready for pick-up"),
    ("there's no reason for me to live anymore", "en", "crisis.self", "no reason to live, reworded"),
    ("nobody would even care if I died", "en", "crisis.self", "feeling unmissed, reworded"),
    ("I feel like such a burden to everyone", "en", "crisis.self", "burden to everyone"),
    ("I've been so suicidal this week", "en", "crisis.self", "'suicidal' with the writer as subject"),
    ("I'm going to jump off a bridge", "en", "crisis.self", "a method in first person"),
    ("I've given up on life", "en", "crisis.self", "given up on life"),
    ("j'ai envie d'en finir", "fr", "crisis.self", "French, wanting it over"),
    ("quiero acabar con todo", "es", "crisis.self", "Spanish, ending everything"),
    ("ich will meinem Leben ein Ende setzen", "de", "crisis.self", "German, ending my life"),
    ("não tenho motivo para viver", "pt", "crisis.self", "Portuguese, no reason to live"),
    ("me quiero quitar la vida", "es", "crisis.self", "Spanish, pronoun before the verb"),
    ("no le veo sentido a la vida", "es", "crisis.self", "Spanish, no meaning in life"),
    ("je pense au suicide", "fr", "crisis.self", "French, thinking of suicide"),
    ("je veux plus être là", "fr", "crisis.self", "French, not wanting to be here"),
    ("ich will nicht mehr da sein", "de", "crisis.self", "German, not wanting to be here"),
    ("ich denke an Selbstmord", "de", "crisis.self", "German, thinking of suicide"),
    ("estou pensando em suicídio", "pt", "crisis.self", "Portuguese, thinking of suicide"),
    ("não vejo sentido em viver", "pt", "crisis.self", "Portuguese, no sense in living"),
    ("me estoy muriendo de hambre jaja", "es", None, "Spanish idiom, starving"),
    ("je meurs de faim", "fr", None, "French idiom, starving"),
    ("ich sterbe vor Hunger", "de", None, "German idiom, starving"),
    ("tô morrendo de fome", "pt", None, "Portuguese idiom, starving"),
    ("I've had suicidal ideation since the new meds", "en", "crisis.self", "the clinical words, said of oneself"),
    ("what is suicidal ideation?", "en", None, "a definition asked"),
    ("I cut myself a slice of cake", "en", None, "'cut myself' as in serving"),
    ("what happens to my kids if I'm gone, the scan is friday", "en", None, "a patient facing illness"),
    ("I feel like a burden on my partner since the diagnosis", "en", None, "guilt about care, no risk"),
    ("I'm not suicidal, just exhausted", "en", None, "'suicidal' negated"),
    ("I don't feel suicidal, just tired of the pain", "en", None, "'feel suicidal' negated"),
    ("my suicidal friend finally got help", "en", None, "'suicidal' about someone else"),
    ("I watched him jump off the roof into the pool", "en", None, "a method word about someone else"),
    ("I'd never throw myself off anything, don't worry", "en", None, "a method negated"),
    ("never give up on life, it gets better", "en", None, "peer encouragement"),
    ("when I was suicidal in 2019 this group saved me", "en", None, "recovery story"),
    ("life is not worth living without coffee lol", "en", None, "hyperbole"),
    ("I took all my pills today, even the evening ones", "en", None, "medication taken as prescribed"),
    # crisis.self hard negatives
    ("I'm dying to know how the trial went", "en", None, "idiom"),
    ("these forms are killing me", "en", None, "idiom"),
    ("this migraine is killing me", "en", None, "idiom"),
    ("how do I kill a python process?", "en", None, "homonym"),
    ("please don't give up, call 988, we're here", "en", None, "peer support"),
    ("suicide awareness month starts on friday", "en", None, "awareness talk"),
    ("one year clean from self harm today!", "en", None, "recovery milestone"),
    ("I don't want to die, I want the pain to stop", "en", None, "negated statement"),
    ("do you want to die? that's what the game asks", "en", None, "second person"),
    ("me muero de ganas de verte", "es", None, "Spanish idiom"),
    ("ça me tue ces formulaires", "fr", None, "French idiom"),
    ("ich will nicht sterben", "de", None, "German negation"),
    ("o trabalho vai me matar", "pt", None, "Portuguese idiom"),
    # crisis.other
    ("my friend says he wants to kill himself", "en", "crisis.other", "someone else at risk"),
    ("mi hermana se quiere matar", "es", "crisis.other", "Spanish, someone else"),
    ("il veut se suicider", "fr", "crisis.other", "French, someone else"),
    ("mein Bruder will sich umbringen", "de", "crisis.other", "German, someone else"),
    ("ela quer se matar", "pt", "crisis.other", "Portuguese, someone else"),
    ("my sister said she doesn't want to live anymore", "en", "crisis.other", "someone else, reported"),
    ("I'm worried my son is going to hurt himself", "en", "crisis.other", "a parent's worry"),
    ("my partner says everyone would be better off without him", "en", "crisis.other", "someone else's burden"),
    ("mi amigo dice que no quiere vivir", "es", "crisis.other", "Spanish, someone else reported"),
    ("mon frère parle de se suicider", "fr", "crisis.other", "French, someone else reported"),
    ("meine Freundin sagt, sie will nicht mehr leben", "de", "crisis.other", "German, someone else reported"),
    ("he killed it at the gig last night", "en", None, "idiom about someone else"),
    # emergency.medical
    ("sudden chest pain spreading to my jaw and I'm sweating", "en", "emergency.medical", "heart attack signs"),
    ("my sugar is 1.9 and I'm shaking and confused", "en", "emergency.medical", "severe hypo"),
    ("her face is drooping and her speech is slurred", "en", "emergency.medical", "stroke signs"),
    ("my throat is closing up after the peanuts", "en", "emergency.medical", "anaphylaxis"),
    ("he's not breathing", "en", "emergency.medical", "not breathing"),
    ("mi papá no respira", "es", "emergency.medical", "Spanish, not breathing"),
    ("il fait un avc", "fr", "emergency.medical", "French, stroke"),
    ("sie ist bewusstlos", "de", "emergency.medical", "German, unconscious"),
    ("estou com dor no peito e suando", "pt", "emergency.medical", "Portuguese, chest pain and sweat"),
    ("er hat einen Herzinfarkt", "de", "emergency.medical", "German, heart attack now"),
    ("me duele mucho el pecho y el brazo izquierdo", "es", "emergency.medical", "Spanish, chest and left arm"),
    ("j'ai mal à la poitrine et au bras gauche", "fr", "emergency.medical", "French, chest and left arm"),
    ("meu peito dói e o braço esquerdo está dormente", "pt", "emergency.medical", "Portuguese, chest and left arm"),
    ("me duele el brazo izquierdo de tanto escribir", "es", None, "Spanish, a sore arm alone"),
    ("my chest hurts so bad and my left arm is numb", "en", "emergency.medical", "heart attack signs, said plainly"),
    ("severe allergic reaction, my lips are swelling", "en", "emergency.medical", "anaphylaxis, said plainly"),
    ("my mum collapsed on the floor", "en", "emergency.medical", "collapse"),
    ("I'm bleeding heavily and it won't stop", "en", "emergency.medical", "heavy bleeding"),
    ("my ketones are 3.5 and I'm vomiting", "en", "emergency.medical", "ketoacidosis signs"),
    ("chest pain when I cough, had a cold all week", "en", None, "one sign alone"),
    ("ketones 0.4 this morning, a bit nauseous from the new meds", "en", None, "normal ketones"),
    ("I'm allergic to peanuts, any snack ideas?", "en", None, "an allergy, no reaction"),
    ("my dad had a stroke in 2019", "en", None, "a stroke in the past"),
    ("er hatte vor Jahren einen Herzinfarkt", "de", None, "German, heart attack years ago"),
    ("bit shaky after my run, sugar 5.4", "en", None, "normal reading"),
    ("my grandad died of a heart attack years ago", "en", None, "history, not now"),
    # pii
    ("call me on +44 7911 123456", "en-GB", "pii", "UK mobile"),
    ("my number is (415) 555-2671", "en", "pii", "US number"),
    ("mail me at jane.doe@example.com", "en", "pii", "email"),
    ("write to jane at example dot com", "en", "pii", "spelled-out email"),
    ("card 4111 1111 1111 1111 exp 09/27", "en", "pii", "card passing Luhn"),
    ("IBAN GB82 WEST 1234 5698 7654 32", "en-GB", "pii", "IBAN passing mod 97"),
    ("my ssn is 123-45-6789", "en", "pii", "SSN format"),
    ("NHS number 943 476 5919", "en-GB", "pii", "NHS number passing mod 11"),
    ("I live at 221 Baker Street", "en", "pii", "street address"),
    ("llámame al 55 1234 5678", "es-MX", "pii", "Mexican number"),
    ("mon numéro: 06 12 34 56 78", "fr", "pii", "French mobile"),
    ("ruf mich an: 0151 23456789", "de", "pii", "German mobile"),
    ("me liga: (11) 91234-5678", "pt", "pii", "Brazilian mobile"),
    ("Phone: 0490 75 40 81", "en", "pii", "foreign number after a phone word"),
    ("can someone call me on 9472 7916?", "en", "pii", "local number after a phone word"),
    ("my card 503867297114 was declined", "en", "pii", "12-digit Maestro card passing Luhn"),
    ("my driving licence number is 2270-66-1551", "en", "pii", "licence number after the word number"),
    ("iban gb82west12345698765432", "en", "pii", "IBAN typed in lower case"),
    ("she lives at Koskikatu 25 now", "en", "pii", "address without a street word"),
    ("meet me at 6750 Koskikatu 25", "en", "pii", "house number, name, number"),
    ("send it to ul. Miła 53", "en", "pii", "Polish street marker"),
    ("text 4155552671 anytime", "en-GB", "pii", "a foreign number after 'text'"),
    ("is the pharmacy at 5 Main St open on sunday?", "en", None, "where a pharmacy is, not a home"),
    ("three days in a row now, a 25 minute drive each way", "en", None, "street words as everyday words"),
    ("took 2 Advil 3 times today", "en", None, "counts, not an address"),
    ("we moved to Boston 2 years ago", "en", None, "a place and a duration"),
    ("no not at all. It was fine", "en", None, "'at ... .it' is a sentence, not an e-mail"),
    ("my glucose numbers were 110 120 135 today", "en", None, "readings, not a phone number"),
    ("in an emergency dial 999 or 112", "en-GB", None, "emergency numbers"),
    ("card ends 4111 1111 1111 1112", "en", None, "fails Luhn"),
    ("my a1c went from 9.1 to 6.8 in 2023", "en", None, "numbers that are not personal"),
    # abuse
    ("shut up you stupid bitch", "en", "abuse", "insult"),
    ("go kill yourself", "en", "abuse", "telling someone to kill themselves"),
    ("eres un pendejo", "es", "abuse", "Spanish insult"),
    ("ferme ta gueule connard", "fr", "abuse", "French insult"),
    ("du bist ein Arschloch", "de", "abuse", "German insult"),
    ("vai se foder", "pt", "abuse", "Portuguese insult"),
    ("you're so stupid lol", "en", "abuse", "insult aimed at someone"),
    ("shut up idiot", "en", "abuse", "a message that is only the insult"),
    ("you're a f*cking idiot", "en", "abuse", "insult with a filler between"),
    ("eres un idiota", "es", "abuse", "Spanish insult word aimed at someone"),
    ("t'es vraiment débile", "fr", "abuse", "French insult word aimed at someone"),
    ("du bist so dumm", "de", "abuse", "German insult word aimed at someone"),
    ("você é um idiota", "pt", "abuse", "Portuguese insult word aimed at someone"),
    ("die in a fire", "en", "abuse", "wishing harm"),
    ("nobody wants you here, leave", "en", "abuse", "harassment"),
    ("go back to your country", "en", "abuse", "hate aimed at who someone is"),
    ("show me your tits", "en", "abuse", "sexual harassment"),
    ("my grandparents came from Jamaica and went back to their country in 1990", "en", None, "a family history"),
    ("please don't kill yourself, talk to us", "en", None, "peer support, not abuse"),
    ("my stupid pump keeps alarming", "en", None, "insult word about a thing"),
    ("you know what's stupid? the waiting list", "en", None, "insult word not aimed at the reader"),
    ("what an idiot I am, forgot my pen", "en", None, "insult word about oneself"),
    ("the doctor was a complete idiot", "en", None, "venting about someone not in the room"),
    ("I'm so stupid, forgot my insulin again", "en", None, "talking about oneself"),
    ("you're not stupid for asking, everyone forgets", "en", None, "reassurance"),
    ("I went to Scunthorpe for the weekend", "en", None, "word inside a place name"),
    ("my doctor is a legend", "en", None, "plain compliment"),
    # spam
    ("join discord.gg/freecrypto now", "en", "spam", "invite link"),
    ("guaranteed returns on crypto, dm me for details", "en", "spam", "money scheme"),
    ("buy xanax without prescription", "en", "spam", "drug selling"),
    ("@anna @ben @cleo @dev @eli look at this", "en", "spam", "mass mentions"),
    ("WINNER!! claim your prize now, txt WIN to 80086", "en", "spam", "SMS-style prize scam"),
    ("gana dinero desde casa, inversion garantizada", "es", "spam", "Spanish money scheme"),
    ("médicaments sans ordonnance, livraison rapide", "fr", "spam", "French drug selling"),
    ("Ozempic ohne Rezept bestellen", "de", "spam", "German drug selling"),
    ("ganhar dinheiro em casa, chama no zap", "pt", "spam", "Portuguese money scheme"),
    ("made $7k last week trading forex, dm me", "en", "spam", "trading scheme"),
    ("cheap viagra, no rx needed", "en", "spam", "selling prescription drugs"),
    ("check out my onlyfans 😘", "en", "spam", "adult promotion"),
    ("¡Has ganado un premio! haz clic aquí", "es", "spam", "Spanish prize scam"),
    ("Vous avez gagné un iPhone, cliquez ici", "fr", "spam", "French prize scam"),
    ("Sie haben gewonnen! Klicken Sie hier", "de", "spam", "German prize scam"),
    ("Você ganhou um prêmio, clique aqui", "pt", "spam", "Portuguese prize scam"),
    ("¿has ganado peso con la insulina?", "es", None, "Spanish 'gained', not 'won'"),
    ("my prescription ran out, pharmacy opens at 9", "en", None, "talking about prescriptions"),
    ("ask me how the appointment went later", "en", None, "an everyday 'ask me how'"),
    ("thanks @sam, that helped", "en", None, "one mention"),
    ("new study: 1 in 4 long covid patients improve after 12 months https://www.nature.com/articles/x", "en", None,
     "a study's numbers beside a journal link"),
    ("this helped me https://www.nhs.uk/conditions/type-1-diabetes/", "en", None, "a health authority's page"),
    # misinformation
    ("you should stop taking insulin and try cinnamon", "en", "misinformation", "stop insulin"),
    ("vaccines cause autism, everyone knows", "en", "misinformation", "vaccine myth"),
    ("drink bleach to cure it", "en", "misinformation", "bleach"),
    ("deja la insulina, con dieta basta", "es", "misinformation", "Spanish, stop insulin"),
    ("les vaccins causent l'autisme", "fr", "misinformation", "French vaccine myth"),
    ("Impfungen verursachen Autismus", "de", "misinformation", "German vaccine myth"),
    ("pare a insulina, é veneno", "pt", "misinformation", "Portuguese stop insulin"),
    ("drink MMS, it cures autism", "en", "misinformation", "MMS by its short name"),
    ("you can cure type 1 diabetes with a raw vegan diet", "en", "misinformation", "type 1 cure claim"),
    ("covid vaccines are killing people", "en", "misinformation", "vaccine myth, reworded"),
    ("throw out your inhaler, breathing exercises cure asthma", "en", "misinformation", "stop a rescue inhaler"),
    ("chemo is a scam, cannabis oil cured my aunt", "en", "misinformation", "against chemotherapy"),
    ("the covid vaccine has a microchip", "en", "misinformation", "vaccine conspiracy"),
    ("depression is just laziness", "en", "misinformation", "denying an illness"),
    ("never stop taking insulin without your team", "en", None, "correct advice"),
    ("my doctor says I might come off antidepressants slowly next year", "en", None, "tapering with a doctor"),
    ("is it true that turmeric helps inflammation?", "en", None, "a question about a remedy"),
    ("scientists hope to cure type 1 diabetes within 20 years", "en", None, "research news"),
    ("there is no miracle cure, sadly", "en", None, "debunking"),
]


@pytest.mark.parametrize("text,locale,family,why", ROWS, ids=[r[3] for r in ROWS])
def test_row(pipeline: Pipeline, text: str, locale: str, family: str | None, why: str) -> None:
    verdict = pipeline.screen(text, locale=locale)
    found = {f.family for f in verdict.flags}
    if family is None:
        assert found == set(), f"{why}: flagged {verdict.reasons}"
    else:
        assert family in found, f"{why}: got {verdict.reasons}"


@pytest.mark.parametrize("text,action", [
    ("I want to die", Action.FLAG),
    ("call me on +44 7911 123456", Action.REMOVE),
    ("join discord.gg/abc", Action.REMOVE),
    ("go kill yourself", Action.REMOVE),
    ("vaccines cause autism", Action.HOLD),
    ("hello friends", Action.ALLOW),
])
def test_action_policy(pipeline: Pipeline, text: str, action: Action) -> None:
    assert pipeline.screen(text, locale="en-GB").action == action


@pytest.mark.parametrize("text", [
    "call 988 or text 741741 any time", "Samaritans are on 116 123, free",
    "call 1-800-273-8255 any time", "phone Samaritans: 116 123",
])
def test_helplines_are_never_removed_nor_personal_data(pipeline: Pipeline, text: str) -> None:
    verdict = pipeline.screen(text, locale="en-GB")
    assert not verdict.has("pii") and verdict.action < Action.REMOVE


@pytest.mark.parametrize("text", [
    "the Diabetes UK helpline is 0345 123 2399",  # a UK 03 number, which phonenumbers calls UAN
    "their support line: 020 7946 0123",  # a London number, named as a line
])
def test_an_organisations_line_is_not_personal_data(pipeline: Pipeline, text: str) -> None:
    assert "pii" not in {f.family for f in pipeline.screen(text, locale="en-GB").flags}


def test_crisis_severity_separates_intent_from_ideation(pipeline: Pipeline) -> None:
    assert pipeline.screen("I'm going to kill myself").severity == 4
    assert pipeline.screen("I've been having suicidal thoughts").severity == 3


def test_crisis_flag_stays_beside_removal(pipeline: Pipeline) -> None:
    verdict = pipeline.screen("I want to die, call me on +44 7911 123456", locale="en-GB")
    assert verdict.action == Action.REMOVE and verdict.crisis == "crisis.self"


def test_spans_point_into_the_original_text(pipeline: Pipeline) -> None:
    text = "ok ｓｏ I wanna d1e!!! call +44 7911 123456"
    verdict = pipeline.screen(text, locale="en-GB")
    crisis = [s for s in verdict.spans if s.category == "crisis.self"]
    assert crisis and text[crisis[0].start:crisis[0].end] == "wanna d1e"
    phone = [s for s in verdict.spans if s.category == "pii.phone"]
    assert text[phone[0].start:phone[0].end] == "+44 7911 123456"


def test_reasons_name_the_rule(pipeline: Pipeline) -> None:
    assert any("kill myself" in r for r in pipeline.screen("i will kill myself").reasons)


class _Broken:
    name = "pii"

    def screen(self, message):
        raise RuntimeError("boom")


def test_failing_screener_holds_and_keeps_other_flags(pipeline: Pipeline, caplog) -> None:
    broken = Pipeline(pipeline.lexicon, [*pipeline.screeners, _Broken()])
    with caplog.at_level(logging.ERROR):
        verdict = broken.screen("I want to die")
    assert verdict.action == Action.HOLD
    assert verdict.crisis == "crisis.self"
    assert any(r.startswith("screener pii failed: RuntimeError: boom") for r in verdict.reasons)
    assert "screener pii failed" in caplog.text


def test_every_screener_runs(pipeline: Pipeline) -> None:
    names = {s.name for s in pipeline.screeners}
    assert {"crisis", "emergency", "pii", "abuse", "spam", "misinformation"} <= names
    assert any(isinstance(s, LexiconScreener) for s in pipeline.screeners)


def test_spans_on_the_same_words_come_in_one_order_whatever_the_process() -> None:
    # "idiot" caught by a community filter and by the abuse list: two spans over the same letters,
    # listed by category so `screen --jsonl` writes the same line in every run
    filtered = Flag("spam.filter", Action.REMOVE, 1, "filter: idiot*", (Span(0, 5, "spam.filter"),))
    insult = Flag("abuse.insult", Action.HOLD, 1, 'abuse.insult insult: "idiot"', (Span(0, 5, "abuse.insult"),))
    for flags in ([filtered, insult], [insult, filtered]):
        assert [s.category for s in merge(flags).spans] == ["abuse.insult", "spam.filter"]
