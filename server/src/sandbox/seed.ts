import { seedRecord, type HubSpotState } from './hubspot/state.ts';

export const SEED_CONTACTS = 300;
export const SEED_DEALS = 150;

const FIRST_NAMES = [
  'Ada',
  'Grace',
  'Alan',
  'Katherine',
  'Linus',
  'Margaret',
  'Dennis',
  'Barbara',
  'Ken',
  'Frances',
  'Edsger',
  'Radia',
  'Tim',
  'Hedy',
  'John',
  'Sophie',
  'Guido',
  'Anita',
  'Bjarne',
  'Shafi',
];
const LAST_NAMES = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Johnson',
  'Torvalds',
  'Hamilton',
  'Ritchie',
  'Liskov',
  'Thompson',
  'Allen',
  'Dijkstra',
  'Perlman',
  'Berners-Lee',
  'Lamarr',
  'McCarthy',
  'Wilson',
  'van Rossum',
  'Borg',
  'Stroustrup',
  'Goldwasser',
];
const COMPANIES = [
  {
    name: 'Northwind Traders',
    domain: 'northwind.example',
    industry: 'Retail',
    city: 'Seattle',
    country: 'United States',
    size: '100-500',
  },
  {
    name: 'Contoso Pharmaceuticals',
    domain: 'contoso.example',
    industry: 'Pharmaceuticals',
    city: 'Basel',
    country: 'Switzerland',
    size: '1000+',
  },
  {
    name: 'Fabrikam Robotics',
    domain: 'fabrikam.example',
    industry: 'Industrial Automation',
    city: 'Munich',
    country: 'Germany',
    size: '500-1000',
  },
  {
    name: 'Tailspin Toys',
    domain: 'tailspin.example',
    industry: 'Consumer Goods',
    city: 'Toronto',
    country: 'Canada',
    size: '50-100',
  },
  {
    name: 'Wide World Importers',
    domain: 'wideworld.example',
    industry: 'Logistics',
    city: 'Rotterdam',
    country: 'Netherlands',
    size: '100-500',
  },
  {
    name: 'Adventure Works Cycles',
    domain: 'adventureworks.example',
    industry: 'Sporting Goods',
    city: 'Lyon',
    country: 'France',
    size: '25-50',
  },
  {
    name: 'Litware Labs',
    domain: 'litware.example',
    industry: 'Software',
    city: 'Austin',
    country: 'United States',
    size: '5-25',
  },
  {
    name: 'Proseware Analytics',
    domain: 'proseware.example',
    industry: 'Software',
    city: 'Dublin',
    country: 'Ireland',
    size: '50-100',
  },
  {
    name: 'Lucerne Publishing',
    domain: 'lucerne.example',
    industry: 'Publishing',
    city: 'London',
    country: 'United Kingdom',
    size: '100-500',
  },
  {
    name: 'Trey Research',
    domain: 'treyresearch.example',
    industry: 'Biotechnology',
    city: 'Boston',
    country: 'United States',
    size: '25-50',
  },
];
const TITLES = [
  'VP Sales',
  'Head of RevOps',
  'Marketing Manager',
  'CTO',
  'Data Engineer',
  'Account Executive',
  'Procurement Lead',
  'COO',
  'Product Manager',
  'Customer Success Manager',
];
const STAGES = [
  'subscriber',
  'lead',
  'lead',
  'marketingqualifiedlead',
  'salesqualifiedlead',
  'opportunity',
  'customer',
];
const DEAL_STAGES = [
  'appointmentscheduled',
  'qualifiedtobuy',
  'presentationscheduled',
  'decisionmakerboughtin',
  'contractsent',
  'closedwon',
  'closedlost',
];
const OWNERS = ['1001', '1002', '1003'];

/** A fixed sequence, so every fresh sandbox holds the same records and the demo batch finds what it expects. */
function sequence(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

/**
 * Seeds a few hundred contacts and deals as an import would, with gaps for an enrichment agent
 * to fill (a third have no job title, a quarter no city), some customers, some owners. Only call
 * it on an empty state: the sandbox seeds once and keeps its data across restarts.
 */
export function seedSandbox(
  state: HubSpotState,
  options: { at?: number } = {},
): { contacts: string[]; deals: string[] } {
  const random = sequence(42);
  const at = options.at ?? state.now() - 30 * 86_400_000;
  const contacts: string[] = [];
  for (let i = 0; i < SEED_CONTACTS; i += 1) {
    const firstname = pick(random, FIRST_NAMES);
    const lastname = pick(random, LAST_NAMES);
    const company = pick(random, COMPANIES);
    const properties: Record<string, string> = {
      firstname,
      lastname,
      email: `${firstname}.${lastname}${i}@${company.domain}`.toLowerCase().replace(/[^a-z0-9.@-]/g, ''),
      lifecyclestage: pick(random, STAGES),
      company: random() < 0.8 ? company.name : '',
      jobtitle: random() < 0.66 ? pick(random, TITLES) : '',
      city: random() < 0.75 ? company.city : '',
      country: random() < 0.85 ? company.country : '',
      industry: random() < 0.5 ? company.industry : '',
      numemployees: random() < 0.5 ? company.size : '',
      phone: random() < 0.4 ? `+1 555 ${String(1000 + i).padStart(4, '0')}` : '',
      hubspot_owner_id: random() < 0.7 ? pick(random, OWNERS) : '',
      hs_email_optout: random() < 0.05 ? 'true' : 'false',
    };
    contacts.push(seedRecord(state, 'contacts', { properties: withoutEmpty(properties), at: at + i * 1000 }));
  }
  const deals: string[] = [];
  for (let i = 0; i < SEED_DEALS; i += 1) {
    const company = pick(random, COMPANIES);
    const properties: Record<string, string> = {
      dealname: `${company.name} - ${pick(random, ['Renewal', 'Expansion', 'New business', 'Pilot'])}`,
      pipeline: 'default',
      dealstage: pick(random, DEAL_STAGES),
      amount: String(Math.round(random() * 90 + 5) * 1000),
      closedate: new Date(Date.UTC(2026, Math.floor(random() * 12), 1 + Math.floor(random() * 27))).toISOString(),
      hubspot_owner_id: random() < 0.8 ? pick(random, OWNERS) : '',
    };
    deals.push(seedRecord(state, 'deals', { properties: withoutEmpty(properties), at: at + i * 1000 }));
  }
  return { contacts, deals };
}

// An imported blank is no value at all in HubSpot: the property has no history until someone sets it.
function withoutEmpty(properties: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(properties).filter(([, value]) => value !== ''));
}
