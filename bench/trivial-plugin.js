// The cheapest plugin that still runs JavaScript on every packet: the cost of plugins themselves.
module.exports = {
  name: 'count',
  onInit(packet, flow) { flow.udps.packets = 1; },
  onUpdate(packet, flow) { flow.udps.packets++; },
};
