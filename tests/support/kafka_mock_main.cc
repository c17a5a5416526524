// ofn-kafka-mock: librdkafka's mock Kafka cluster as a process, for tests and
// `make run` (no Kafka broker package exists on Debian). It is a stand-in,
// not a real Kafka: librdkafka implements the protocol in memory.
//
//   ofn-kafka-mock [--brokers N] [--partitions P] [TOPIC...]
//
// Prints the bootstrap servers ("127.0.0.1:PORT,...") on the first line of
// stdout, then serves until SIGTERM/SIGINT. Topics are created with P
// partitions (default 1); others are auto-created on first use.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  int brokers = 1, partitions = 1;
  std::vector<std::string> topics;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "--brokers" || a == "--partitions") && i + 1 < argc) {
      int v = std::atoi(argv[++i]);
      if (v < 1) {
        std::fprintf(stderr, "ofn-kafka-mock: %s must be a positive integer\n", a.c_str());
        return 2;
      }
      (a == "--brokers" ? brokers : partitions) = v;
    } else if (a.starts_with("-")) {
      std::fprintf(stderr, "usage: ofn-kafka-mock [--brokers N] [--partitions P] [TOPIC...]\n");
      return 2;
    } else {
      topics.push_back(a);
    }
  }
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);  // before librdkafka starts threads

  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) {
    std::fprintf(stderr, "ofn-kafka-mock: %s\n", err);
    return 1;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (cluster == nullptr) {
    std::fprintf(stderr, "ofn-kafka-mock: cannot create the mock cluster\n");
    return 1;
  }
  for (const auto& t : topics) {
    if (rd_kafka_mock_topic_create(cluster, t.c_str(), partitions, 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "ofn-kafka-mock: cannot create topic %s\n", t.c_str());
      return 1;
    }
  }
  std::printf("%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
  std::fflush(stdout);
  int sig = 0;
  sigwait(&stop, &sig);
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  return 0;
}
