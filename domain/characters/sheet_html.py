"""A printable one-page character sheet (HTML + print CSS) from `domain.rules.charsheet.Sheet`.
Standard library only; every value is escaped."""

from __future__ import annotations

from html import escape

from domain.rules.charsheet import Sheet

_CSS = """
@page { size: A4; margin: 10mm; }
* { box-sizing: border-box; }
body { font: 9pt/1.25 Georgia, 'Times New Roman', serif; color: #111; margin: 0 auto;
       max-width: 190mm; }
h1 { font-size: 16pt; margin: 0 0 1mm; } h2 { font-size: 9.5pt; margin: 0 0 1mm;
  text-transform: uppercase; letter-spacing: .05em; border-bottom: 1px solid #111; }
.sub { color: #444; margin-bottom: 2mm; }
.grid { display: grid; grid-template-columns: 32mm 1fr 1fr; gap: 3mm; }
.box { border: 1px solid #111; border-radius: 2mm; padding: 1.5mm 2mm; break-inside: avoid;
       margin-bottom: 2.5mm; }
.stats { display: flex; gap: 2mm; flex-wrap: wrap; margin-bottom: 2.5mm; }
.stat { border: 1px solid #111; border-radius: 2mm; padding: 1mm 2mm; text-align: center;
        min-width: 20mm; }
.stat b { display: block; font-size: 13pt; } .stat small { font-size: 7pt; color: #333; }
.ab { text-align: center; } .ab b { font-size: 14pt; display: block; }
table { width: 100%; border-collapse: collapse; } td, th { padding: .3mm 1mm;
  text-align: left; vertical-align: top; } th { font-size: 7.5pt; color: #333; }
td.n { text-align: right; width: 9mm; } .dot { width: 4mm; }
ul { margin: 0; padding-left: 4mm; } .muted { color: #555; font-size: 7.5pt; }
.bad { color: #a00; }
@media print { body { max-width: none; } a { color: inherit; text-decoration: none; } }
"""


def _n(v: int) -> str:
    return f"{v:+d}"


def _e(v: object) -> str:
    return escape(str(v))


def render_sheet(s: Sheet) -> str:
    """The sheet as a complete HTML document."""
    out: list[str] = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{_e(s.name)} — character sheet</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(s.name)}</h1><div class='sub'>{_e(', '.join(s.classes))} · "
        f"{_e(s.origin)} · {_e(s.background)} · level {s.total_level} · {s.xp} XP"
        + (f" (next {s.next_level_xp})" if s.next_level_xp else "")
        + f" · D&amp;D {_e(s.ruleset)} rules</div>",
        "<div class='stats'>",
    ]
    hp = "—" if s.hit_points is None else str(s.hit_points)
    dice = ", ".join(f"{n}{d}" for d, n in sorted(s.hit_dice.items()))
    for label, value in (("Armor Class", s.armor_class), ("Initiative", _n(s.initiative)),
                         ("Speed", f"{s.speed} ft"), ("Hit Points", hp), ("Hit Dice", dice),
                         ("Proficiency", _n(s.proficiency_bonus))):
        out.append(f"<div class='stat'><small>{label}</small><b>{_e(value)}</b></div>")
    for skill, value in s.passives.items():
        out.append(f"<div class='stat'><small>Passive {skill.title()}</small>"
                   f"<b>{value}</b></div>")
    out.append("</div><div class='grid'><div>")
    for a in s.abilities:
        out.append(f"<div class='box ab'><small>{a.ability.upper()}</small><b>"
                   f"{_n(a.modifier)}</b>{a.score}</div>")
    out.append("</div><div>")
    out.append("<div class='box'><h2>Saving throws</h2><table>")
    for a in s.abilities:
        out.append(f"<tr><td class='dot'>{'●' if a.save_proficient else '○'}</td>"
                   f"<td>{a.ability.upper()}</td><td class='n'>{_n(a.save)}</td></tr>")
    out.append("</table></div><div class='box'><h2>Skills</h2><table>")
    for sk in s.skills:
        dot = "◆" if sk.expertise else ("●" if sk.proficient else "○")
        out.append(f"<tr><td class='dot'>{dot}</td><td>{_e(sk.name)} "
                   f"<span class='muted'>({sk.ability})</span></td>"
                   f"<td class='n'>{_n(sk.bonus)}</td></tr>")
    out.append("</table></div></div><div>")
    out.append("<div class='box'><h2>Armor class</h2><ul>")
    for part in s.armor_class_breakdown:
        out.append(f"<li>{_e(part.part)}: {part.value}</li>")
    out.append("</ul>" + (f"<div class='muted'>{_e(s.speed_note)}</div>" if s.speed_note
                          else "") + "</div>")
    if s.attacks:
        out.append("<div class='box'><h2>Attacks</h2><table><tr><th>Weapon</th><th>Hit</th>"
                   "<th>Damage</th></tr>")
        for at in s.attacks:
            dmg = at.damage + (f" ({at.versatile} two-handed)" if at.versatile else "")
            out.append(f"<tr><td>{_e(at.name)}</td><td>{_n(at.to_hit)}</td>"
                       f"<td>{_e(dmg)} {_e(at.damage_type)}</td></tr>")
        out.append("</table></div>")
    for sc in s.spellcasting:
        limit = "" if sc.spells_limit is None else f"/{sc.spells_limit}"
        out.append(f"<div class='box'><h2>{_e(sc.class_.title())} spellcasting</h2>"
                   f"{sc.ability.upper()} · save DC {sc.save_dc} · attack "
                   f"{_n(sc.attack_bonus)}<br>cantrips {sc.cantrips_known}/{sc.cantrips_limit}"
                   f" · {sc.limit_kind} {sc.spells}{limit}</div>")
    slots = [f"{i + 1}: {n}" for i, n in enumerate(s.spell_slots.slots) if n]
    if slots or s.spell_slots.pact_slots:
        pact = (f" · pact {s.spell_slots.pact_slots}&times;{s.spell_slots.pact_slot_level}"
                if s.spell_slots.pact_slots else "")
        out.append(f"<div class='box'><h2>Spell slots</h2>{_e(', '.join(slots))}{pact}</div>")
    out.append("</div></div>")
    if s.spells:
        out.append("<div class='box'><h2>Spells</h2><table><tr><th>Lv</th><th>Spell</th>"
                   "<th>From</th><th></th></tr>")
        for sp in s.spells:
            mark = "always" if sp.always_prepared else ("prepared" if sp.prepared else "")
            src = sp.source + (f" ({sp.granted_by})" if sp.granted_by else "")
            out.append(f"<tr><td>{sp.level}</td><td>{_e(sp.name)}</td><td>{_e(src)}</td>"
                       f"<td class='muted'>{mark}</td></tr>")
        out.append("</table></div>")
    out.append("<div class='box'><h2>Proficiencies</h2>")
    for kind, items in s.proficiencies.items():
        if items:
            text = "; ".join(f"{escape(i.name)} <span class='muted'>({escape(i.source)})</span>"
                             for i in items)
            out.append(f"<div><b>{_e(kind.replace('_', ' ').title())}:</b> {text}</div>")
    if s.choices:
        text = "; ".join(f"{escape(k)}: {escape(v if isinstance(v, str) else ', '.join(v))}"
                         for k, v in s.choices.items())
        out.append(f"<div><b>Choices:</b> {text}</div>")
    out.append("</div><div class='box'><h2>Equipment</h2><ul>")
    for inv in s.inventory:
        flags = ", ".join(f for f, on in (("equipped", inv["equipped"]),
                                          ("attuned", inv["attuned"])) if on)
        out.append(f"<li>{_e(inv['name'])} &times;{_e(inv['quantity'])}"
                   + (f" <span class='muted'>({_e(flags)})</span>" if flags else "") + "</li>")
    coins = ", ".join(f"{v} {k}" for k, v in s.currency.items() if v)
    out.append(f"</ul><div class='muted'>{_e(coins)} · load {s.load:g} of "
               f"{s.carrying_capacity:g} lb · attuned {s.attuned_items}/3</div></div>")
    if s.validation is not None and not s.validation.valid:
        out.append("<div class='box bad'><h2>Rules issues</h2><ul>")
        for issue in s.validation.errors:
            out.append(f"<li>{_e(issue.message)} {_e(issue.fix)}</li>")
        out.append("</ul></div>")
    out.append("</body></html>")
    return "".join(out)
