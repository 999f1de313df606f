/** Audit streaming to SIEMs (issue 22): destinations and the delivery of the audit chain to them. Other folders import this feature only from here. */
export { deliverToDueSiemDestination, type SiemDelivery, type SiemRound } from './deliver.ts';
export { addSiemDestination, listWorkspaceSiemDestinations, removeSiemDestination } from './destinations.ts';
