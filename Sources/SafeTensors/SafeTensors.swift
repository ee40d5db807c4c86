public enum SafeTensorsModule {}
