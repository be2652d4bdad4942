// Counts the flows each onBatch hands over (what the model plugin runs its model on at once),
// and says so on stderr at the end: the batch size for the bare onnxruntime loop to match.
let batches = 0, flows = 0;
module.exports = {
  name: 'batches',
  onBatch(f) { batches++; flows += f.length; },
  onCleanup() { process.stderr.write(`batches ${batches} flows ${flows}\n`); },
};
