using System.Text.Json;
using System.Text.Json.Serialization;
using Tallystick.Proofs;

namespace Tallystick.Wire;

/// <summary>
/// The one JSON contract for every wire record, shared by server and client (source-generated, no reflection).
/// camelCase names; null members are omitted.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ErrorEnvelope))]
[JsonSerializable(typeof(Envelope<EmitResult>))]
[JsonSerializable(typeof(Envelope<BatchEmitResult>))]
[JsonSerializable(typeof(Envelope<DeltaStatusResult>))]
[JsonSerializable(typeof(Envelope<DeriveResult>))]
[JsonSerializable(typeof(Envelope<ScopeLimits>))]
[JsonSerializable(typeof(Envelope<CompareResult>))]
[JsonSerializable(typeof(Envelope<CompareWindows>))]
[JsonSerializable(typeof(Envelope<GapReport>))]
[JsonSerializable(typeof(CompareRequest))]
[JsonSerializable(typeof(CompareTolerance))]
[JsonSerializable(typeof(Envelope<CustomerList>))]
[JsonSerializable(typeof(Envelope<CustomerDetail>))]
[JsonSerializable(typeof(Envelope<InclusionProofResult>))]
[JsonSerializable(typeof(Envelope<ConsistencyProofResult>))]
[JsonSerializable(typeof(EmitRequest))]
[JsonSerializable(typeof(BatchEmitRequest))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(ProofBundle))]
[JsonSerializable(typeof(Envelope<PeriodCheckpointResult>))]
[JsonSerializable(typeof(Envelope<PeriodCheckpointList>))]
[JsonSerializable(typeof(Envelope<ReceiptResult>))]
[JsonSerializable(typeof(Envelope<ProofBundle>))]
[JsonSerializable(typeof(Envelope<VerifyResult>))]
[JsonSerializable(typeof(WebhookEndpointRequest))]
[JsonSerializable(typeof(Envelope<WebhookEndpointResult>))]
[JsonSerializable(typeof(Envelope<WebhookEndpointList>))]
[JsonSerializable(typeof(Envelope<WebhookEndpointDeletion>))]
[JsonSerializable(typeof(Envelope<WebhookTestResult>))]
[JsonSerializable(typeof(Envelope<WebhookDeliveryList>))]
[JsonSerializable(typeof(Envelope<WebhookRetryResult>))]
public sealed partial class WireJson : JsonSerializerContext;
