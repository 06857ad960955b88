using System.Text;

namespace Tern.Conversion.Tokenizers;

/// <summary>
/// Reads a SentencePiece tokenizer.model (a serialized ModelProto) into llama.cpp's "llama" vocabulary, as
/// convert_hf_to_gguf.py's _set_vocab_sentencepiece does: pieces, scores, and types by IsUnknown / IsControl /
/// IsUnused / IsByte, every other piece (USER_DEFINED included) NORMAL.
/// </summary>
/// <remarks>
/// Microsoft.ML.Tokenizers 2.0 loads these files but keeps scores and piece types internal, hence this reader.
/// Field numbers are those of sentencepiece_model.proto; proto2 defaults apply to absent fields
/// (unk 0, bos 1, eos 2, pad -1, add_dummy_prefix true).
/// </remarks>
public static class SentencePieceModelReader
{
    // ModelProto
    private const int PiecesField = 1;
    private const int TrainerSpecField = 2;
    private const int NormalizerSpecField = 3;

    // ModelProto.SentencePiece
    private const int PieceField = 1;
    private const int ScoreField = 2;
    private const int TypeField = 3;

    // TrainerSpec
    private const int ModelTypeField = 3;
    private const int UnkIdField = 40;
    private const int BosIdField = 41;
    private const int EosIdField = 42;
    private const int PadIdField = 43;

    // NormalizerSpec
    private const int AddDummyPrefixField = 3;

    // SentencePiece's piece types (sentencepiece_model.proto): NORMAL 1, UNKNOWN 2, CONTROL 3, USER_DEFINED 4,
    // UNUSED 5, BYTE 6.
    private const int SpUnknown = 2;
    private const int SpControl = 3;
    private const int SpUnused = 5;
    private const int SpByte = 6;

    private static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    public static GgufTokenizerData Read(string path)
    {
        byte[] data = File.ReadAllBytes(path);
        return Parse(data, path);
    }

    /// <summary>Parses ModelProto bytes; <paramref name="name"/> names the source in errors.</summary>
    public static GgufTokenizerData Parse(ReadOnlySpan<byte> data, string name)
    {
        var tokens = new List<string>();
        var scores = new List<float>();
        var types = new List<int>();
        int unkId = 0, bosId = 1, eosId = 2, padId = -1;
        int modelType = 1;
        bool addDummyPrefix = true;

        var reader = new ProtobufReader(data, name);
        while (!reader.End)
        {
            var (field, wire) = reader.ReadKey();
            switch (field)
            {
                case PiecesField:
                    reader.Expect(field, wire, 2);
                    ReadPiece(reader.ReadBytes(out int at), name, at, tokens, scores, types);
                    break;
                case TrainerSpecField:
                    reader.Expect(field, wire, 2);
                    ReadTrainerSpec(reader.ReadBytes(out at), name, at, ref unkId, ref bosId, ref eosId, ref padId, ref modelType);
                    break;
                case NormalizerSpecField:
                    reader.Expect(field, wire, 2);
                    ReadNormalizerSpec(reader.ReadBytes(out at), name, at, ref addDummyPrefix);
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        if (tokens.Count == 0)
            throw new InvalidDataException($"{name}: no pieces; not a SentencePiece model");

        var warnings = new List<string>();
        if (modelType != 2)
            warnings.Add($"{name}: SentencePiece model_type {modelType} is not BPE (2); llama.cpp's \"llama\" tokenizer merges by score as BPE does");

        int n = tokens.Count;
        return new GgufTokenizerData
        {
            Model = "llama",
            Pre = "default",
            Tokens = [.. tokens],
            Scores = [.. scores],
            TokenTypes = [.. types],
            // llama.cpp's SpecialVocab drops ids outside the vocabulary (pad -1 means "none").
            UnknownId = InRange(unkId, n),
            BosId = InRange(bosId, n),
            EosId = InRange(eosId, n),
            PaddingId = InRange(padId, n),
            AddSpacePrefix = addDummyPrefix,
            Warnings = warnings,
        };
    }

    private static int? InRange(int id, int n) => (uint)id < (uint)n ? id : null;

    private static void ReadPiece(ReadOnlySpan<byte> data, string name, int offset, List<string> tokens, List<float> scores, List<int> types)
    {
        string? piece = null;
        float score = 0;
        int type = 1;
        var reader = new ProtobufReader(data, name, offset);
        while (!reader.End)
        {
            var (field, wire) = reader.ReadKey();
            switch (field)
            {
                case PieceField:
                    reader.Expect(field, wire, 2);
                    var bytes = reader.ReadBytes(out int at);
                    try
                    {
                        piece = StrictUtf8.GetString(bytes);
                    }
                    catch (DecoderFallbackException)
                    {
                        throw new InvalidDataException($"{name}: piece {tokens.Count} at byte {at} is not valid UTF-8");
                    }

                    break;
                case ScoreField:
                    reader.Expect(field, wire, 5);
                    score = reader.ReadFixed32Single();
                    break;
                case TypeField:
                    reader.Expect(field, wire, 0);
                    type = reader.ReadInt32();
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        tokens.Add(piece ?? throw new InvalidDataException($"{name}: piece {tokens.Count} at byte {offset} has no text"));
        scores.Add(score);
        types.Add((int)(type switch
        {
            SpUnknown => GgufTokenType.Unknown,
            SpControl => GgufTokenType.Control,
            SpUnused => GgufTokenType.Unused,
            SpByte => GgufTokenType.Byte,
            _ => GgufTokenType.Normal,
        }));
    }

    private static void ReadTrainerSpec(ReadOnlySpan<byte> data, string name, int offset, ref int unk, ref int bos, ref int eos, ref int pad, ref int modelType)
    {
        var reader = new ProtobufReader(data, name, offset);
        while (!reader.End)
        {
            var (field, wire) = reader.ReadKey();
            if (field is not (ModelTypeField or UnkIdField or BosIdField or EosIdField or PadIdField))
            {
                reader.Skip(wire);
                continue;
            }

            reader.Expect(field, wire, 0);
            int value = reader.ReadInt32();
            switch (field)
            {
                case ModelTypeField: modelType = value; break;
                case UnkIdField: unk = value; break;
                case BosIdField: bos = value; break;
                case EosIdField: eos = value; break;
                default: pad = value; break;
            }
        }
    }

    private static void ReadNormalizerSpec(ReadOnlySpan<byte> data, string name, int offset, ref bool addDummyPrefix)
    {
        var reader = new ProtobufReader(data, name, offset);
        while (!reader.End)
        {
            var (field, wire) = reader.ReadKey();
            if (field == AddDummyPrefixField)
            {
                reader.Expect(field, wire, 0);
                addDummyPrefix = reader.ReadBool();
            }
            else
            {
                reader.Skip(wire);
            }
        }
    }
}
