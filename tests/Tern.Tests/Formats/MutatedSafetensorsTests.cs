using Tern.Formats;

namespace Tern.Tests.Formats;

/// <summary>Damaged safetensors files must open consistently or fail with one message naming the file; never crash or hang.</summary>
public class MutatedSafetensorsTests
{
    [Fact]
    public void ThreeHundredMutantsOpenConsistentlyOrFailClearly()
    {
        using var dir = TestData.NewTempFolder();
        string good = dir.File("good.safetensors");
        new SafetensorsWriter()
            .Add("model.embed_tokens.weight", Enumerable.Range(0, 64).Select(i => i * 0.25f).ToArray(), [8, 8], SafetensorsDType.BF16)
            .Add("model.layers.0.self_attn.q_proj.weight", new byte[32], [8, 4])
            .Add("model.norm.weight", [1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f], [8])
            .Write(good);
        var original = File.ReadAllBytes(good);
        // Most damage should land in the JSON header, where a lie is possible; the data section only holds numbers.
        int headerEnd = 8 + (int)BitConverter.ToUInt64(original, 0);

        var rng = new Random(1122);
        string path = dir.File("mutant.safetensors");
        int rejected = 0;
        for (int i = 0; i < 300; i++)
        {
            var bytes = (byte[])original.Clone();
            int flips = 1 + rng.Next(3);
            for (int f = 0; f < flips; f++)
            {
                int at = rng.Next(4) == 0 ? rng.Next(bytes.Length) : rng.Next(headerEnd);
                bytes[at] = (byte)rng.Next(256);
            }

            if (rng.Next(10) == 0)
                bytes = bytes[..rng.Next(bytes.Length)];
            File.WriteAllBytes(path, bytes);
            try
            {
                using var file = SafetensorsFile.Open(path);
                foreach (var t in file.Tensors)
                {
                    Assert.True(t.DataEnd <= file.DataLength);
                    var buffer = new float[t.RowLength * t.RowCount];
                    file.ReadRowsAsFloat(t, 0, checked((int)t.RowCount), buffer);
                }
            }
            catch (InvalidDataException e)
            {
                Assert.Contains(path, e.Message);
                rejected++;
            }
        }

        Assert.True(rejected > 100, $"only {rejected} of 300 mutants were rejected");
    }
}
