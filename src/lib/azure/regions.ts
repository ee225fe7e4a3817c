/**
 * Azure public-cloud region names (`az account list-locations --query "[].name"`), used to validate the regions
 * an operator asks for. Sovereign-cloud regions are listed too so the same build serves every cloud.
 */
export const AZURE_REGIONS: readonly string[] = [
  'australiacentral', 'australiacentral2', 'australiaeast', 'australiasoutheast', 'austriaeast', 'belgiumcentral',
  'brazilsouth', 'brazilsoutheast', 'canadacentral', 'canadaeast', 'centralindia', 'centralus', 'chilecentral',
  'eastasia', 'eastus', 'eastus2', 'francecentral', 'francesouth', 'germanynorth', 'germanywestcentral',
  'indonesiacentral', 'israelcentral', 'italynorth', 'japaneast', 'japanwest', 'koreacentral', 'koreasouth',
  'malaysiawest', 'mexicocentral', 'newzealandnorth', 'northcentralus', 'northeurope', 'norwayeast', 'norwaywest',
  'polandcentral', 'qatarcentral', 'southafricanorth', 'southafricawest', 'southcentralus', 'southeastasia',
  'southindia', 'spaincentral', 'swedencentral', 'swedensouth', 'switzerlandnorth', 'switzerlandwest', 'uaecentral',
  'uaenorth', 'uksouth', 'ukwest', 'westcentralus', 'westeurope', 'westindia', 'westus', 'westus2', 'westus3',
  // Azure Government and Azure China
  'usgovarizona', 'usgovtexas', 'usgovvirginia', 'usdodcentral', 'usdodeast',
  'chinaeast', 'chinaeast2', 'chinaeast3', 'chinanorth', 'chinanorth2', 'chinanorth3',
];

const known = new Set(AZURE_REGIONS);

/** Lower-cases and strips spaces ("West Europe" → "westeurope"), the form ARM uses in `location`. */
export function normalizeRegion(name: string): string {
  return name.toLowerCase().replace(/\s+/g, '');
}

export function isKnownRegion(name: string): boolean {
  return known.has(normalizeRegion(name));
}
