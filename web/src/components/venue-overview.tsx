import type { Section } from '../api';
import { useI18n } from '../i18n/i18n';
import { href, paths } from '../router';

/**
 * Colours of grades in the order the plan first names them (best first): the same grade has the
 * same colour on every screen of a show. Each has enough contrast for white text.
 */
const GRADE_COLOURS = [
  '#7b2cbf',
  '#c81d25',
  '#1d4ed8',
  '#0f766e',
  '#b45309',
  '#be185d',
  '#4d7c0f',
  '#475569',
];

export function gradeColours(sections: Pick<Section, 'grade'>[]): Map<string, string> {
  const colours = new Map<string, string>();
  for (const { grade } of sections) {
    if (!colours.has(grade)) colours.set(grade, GRADE_COLOURS[colours.size % GRADE_COLOURS.length]!);
  }
  return colours;
}

/** The venue at a glance: sections in plan order (the stage side first), grades in colour, seats left. */
export function VenueOverview({
  concertId,
  date,
  sections,
}: {
  concertId: string;
  date: string;
  sections: Section[];
}) {
  const { t, money } = useI18n();
  const colours = gradeColours(sections);
  const grades = [...colours.keys()].map((grade) => {
    const prices = sections.filter((s) => s.grade === grade).map((s) => s.price);
    return { grade, colour: colours.get(grade)!, price: Math.min(...prices) };
  });

  return (
    <section class="venue" aria-labelledby="venue-help">
      <p id="venue-help" class="muted">
        {t('venue.help')}
      </p>
      <ul class="grade-legend" aria-label={t('venue.grades')}>
        {grades.map(({ grade, colour, price }) => (
          <li key={grade}>
            <span class="grade-chip" style={{ background: colour }} aria-hidden="true" />
            {t('venue.grade', { grade })} · {money(price)}
          </li>
        ))}
      </ul>
      <div class="stage" aria-hidden="true">
        {t('seats.stage')}
      </div>
      <ul class="section-tiles" data-testid="sections">
        {sections.map((s) => {
          const label = t('venue.sectionLabel', {
            section: s.section,
            grade: s.grade,
            price: money(s.price),
            available: s.availableSeats,
            total: s.totalSeats,
          });
          const soldOut = s.availableSeats === 0;
          const share = s.totalSeats > 0 ? s.availableSeats / s.totalSeats : 0;
          const body = (
            <>
              <span class="section-name">{t('venue.section', { section: s.section })}</span>
              <span class="section-grade">
                {t('venue.grade', { grade: s.grade })} · {money(s.price)}
              </span>
              <span class="section-left">
                {soldOut
                  ? t('venue.soldOut')
                  : t('venue.left', { available: s.availableSeats, total: s.totalSeats })}
              </span>
              <span class="section-bar" aria-hidden="true">
                <span style={{ width: `${Math.round(share * 100)}%` }} />
              </span>
            </>
          );
          return (
            <li key={s.section} style={{ '--grade': colours.get(s.grade)! }}>
              {soldOut ? (
                <span class="section-tile sold-out" data-section={s.section}>
                  {body}
                </span>
              ) : (
                <a
                  class="section-tile"
                  href={href(paths.section(concertId, date, s.section))}
                  aria-label={label}
                  data-section={s.section}
                >
                  {body}
                </a>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}
