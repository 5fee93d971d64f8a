import { randomUUID } from 'node:crypto';
import type { NewPerson, PatchPersonBody, Person, PersonReport, PeopleReply, Role } from '@lockstep/shared';
import { accept, refuse, type Result } from '../refusal.ts';
import { byFriction, personStats } from '../report/person-report.ts';
import type { Reports } from '../report/reports.ts';
import type { Store } from '../store/store.ts';

export interface PeopleFilter {
  standby?: boolean | undefined;
  role?: Role | undefined;
  sort?: 'friction' | undefined;
}

/** The people directory (docs/PROTOCOL.md §1, §6, v1.1): kept across missions, with their figures from every one. */
export class People {
  constructor(
    private readonly store: Store,
    private readonly reports: Reports,
  ) {}

  async create(body: NewPerson): Promise<Person> {
    const person: Person = { personId: randomUUID(), ...body };
    await this.store.createPerson(person);
    return person;
  }

  get(personId: string): Promise<Person | undefined> {
    return this.store.getPerson(personId);
  }

  patch(personId: string, body: PatchPersonBody): Promise<Result<Person>> {
    return this.store.changePerson(personId, (current) => accept({ ...current, ...body }));
  }

  /** `GET /api/people`: filtered by standby and role, each with stats; `sort=friction` puts who hesitates most first. */
  async list(filter: PeopleFilter): Promise<PeopleReply> {
    const people = (await this.store.listPeople()).filter(
      (p) => (filter.standby === undefined || p.standby === filter.standby) && (filter.role === undefined || p.roles.includes(filter.role)),
    );
    const reports = await this.reports.people(people);
    const listed = reports.map((report) => ({ ...report.person, stats: personStats(report) }));
    return { people: filter.sort === 'friction' ? listed.sort(byFriction) : listed };
  }

  async report(personId: string): Promise<Result<PersonReport>> {
    const person = await this.store.getPerson(personId);
    if (!person) return refuse('not_found', 'no such person');
    const [report] = await this.reports.people([person]);
    return report ? accept(report) : refuse('internal', 'the report was not made');
  }
}
